import { describe, expect, it } from "vitest";
import { latestOnly } from "./latestOnly";

describe("latestOnly", () => {
  it("drops an earlier answer that comes back after a later one", async () => {
    const gates: Record<string, () => void> = {};
    const ask = latestOnly((name: string) => new Promise<string>((resolve) => (gates[name] = () => resolve(name))));
    const first = ask("first");
    const second = ask("second");
    gates.second();
    gates.first();
    expect(await second).toBe("second");
    expect(await first).toBeUndefined();
  });

  it("gives each answer when the questions do not overlap", async () => {
    const ask = latestOnly(async (n: number) => n * 2);
    expect(await ask(1)).toBe(2);
    expect(await ask(2)).toBe(4);
  });
});
