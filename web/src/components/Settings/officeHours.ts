// The weekly office-hours editor's state and the API's shape ({"mon": ["09:00","17:00"]},
// a day left out is closed), kept apart from the component so it can be unit-tested.

export const WEEKDAYS = [
  ["mon", "Monday"],
  ["tue", "Tuesday"],
  ["wed", "Wednesday"],
  ["thu", "Thursday"],
  ["fri", "Friday"],
  ["sat", "Saturday"],
  ["sun", "Sunday"],
] as const;
export type Weekday = (typeof WEEKDAYS)[number][0];

export interface DayHours {
  open: boolean;
  start: string;
  end: string;
}
export type Week = Record<Weekday, DayHours>;

// A closed day still shows times, so that ticking "open" gives a sensible day at once.
const DEFAULT_START = "09:00";
const DEFAULT_END = "17:00";

export function weekOf(hours: Record<string, string[]> | null | undefined): Week {
  const week = {} as Week;
  for (const [day] of WEEKDAYS) {
    const span = hours?.[day];
    week[day] = span && span.length === 2
      ? { open: true, start: span[0], end: span[1] }
      : { open: false, start: DEFAULT_START, end: DEFAULT_END };
  }
  return week;
}

export function hoursOf(week: Week): Record<string, string[]> {
  const hours: Record<string, string[]> = {};
  for (const [day] of WEEKDAYS) {
    const d = week[day];
    if (d.open) hours[day] = [d.start, d.end];
  }
  return hours;
}

/** What is wrong with the week, in words, or null. The API refuses the same. */
export function weekProblem(week: Week): string | null {
  for (const [day, label] of WEEKDAYS) {
    const d = week[day];
    if (!d.open) continue;
    if (!d.start || !d.end) return `${label}: give an opening and a closing time.`;
    if (d.start === d.end) return `${label}: the hours cannot start and end at the same time.`;
  }
  return null;
}

/** True when the day's hours run past midnight (18:00–02:00). */
export function overnight(d: DayHours): boolean {
  return d.open && !!d.start && !!d.end && d.end < d.start;
}

export function browserZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

export function knownZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  try {
    return intl.supportedValuesOf ? intl.supportedValuesOf("timeZone") : [];
  } catch {
    return [];
  }
}
