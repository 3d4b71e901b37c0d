import { describe, expect, it } from "vitest";
import { hoursOf, overnight, weekOf, weekProblem } from "./officeHours";

describe("office hours", () => {
  it("round-trips the API's shape; a day left out is closed", () => {
    const hours = { mon: ["09:00", "17:00"], fri: ["18:00", "02:00"] };
    const week = weekOf(hours);
    expect(week.mon).toEqual({ open: true, start: "09:00", end: "17:00" });
    expect(week.tue.open).toBe(false);
    expect(hoursOf(week)).toEqual(hours);
  });

  it("a closed day is left out even with times", () => {
    const week = weekOf({ mon: ["09:00", "17:00"] });
    week.mon.open = false;
    expect(hoursOf(week)).toEqual({});
  });

  it("an end before the start runs past midnight; the same time is refused", () => {
    const week = weekOf({ fri: ["18:00", "02:00"] });
    expect(overnight(week.fri)).toBe(true);
    expect(weekProblem(week)).toBeNull();
    week.fri.end = "18:00";
    expect(weekProblem(week)).toMatch(/Friday/);
  });
});
