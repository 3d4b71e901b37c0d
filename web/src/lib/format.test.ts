import { describe, expect, it } from "vitest";
import { dayLabel, fileSize, formatPhone, relativeTime } from "./format";

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);

describe("relativeTime", () => {
  it("is compact for the panel", () => {
    expect(relativeTime("2026-11-28T11:59:40Z", NOW)).toBe("now");
    expect(relativeTime("2026-11-28T11:55:00Z", NOW)).toBe("5m");
    expect(relativeTime("2026-11-28T09:00:00Z", NOW)).toBe("3h");
    expect(relativeTime("2026-11-20T09:00:00Z", NOW)).toBe("Nov 20");
    expect(relativeTime("2025-11-20T09:00:00Z", NOW)).toBe("Nov 20, 2025");
    expect(relativeTime(null, NOW)).toBe("");
  });
});

describe("dayLabel", () => {
  it("names today and yesterday", () => {
    expect(dayLabel("2026-11-28T11:00:00Z", NOW)).toBe("Today");
    expect(dayLabel("2026-11-27T11:00:00Z", NOW)).toBe("Yesterday");
  });
});

describe("formatPhone", () => {
  it("groups North American numbers and leaves others alone", () => {
    expect(formatPhone("+14155550123")).toBe("+1 (415) 555-0123");
    expect(formatPhone("+33612345678")).toBe("+33612345678");
  });
});

describe("fileSize", () => {
  it("uses the right unit", () => {
    expect(fileSize(500)).toBe("500 B");
    expect(fileSize(2048)).toBe("2.0 KB");
    expect(fileSize(3 * 1024 * 1024)).toBe("3.0 MB");
  });
});
