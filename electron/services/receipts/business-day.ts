// The shop's business day: a calendar day in the shop's time zone, not in UTC. A day is 23 or 25 hours
// long where the clocks change, and in a few zones it does not start at 00:00 (the clocks jump from
// 00:00 to 01:00); its bounds are found on the clock itself, not computed from an assumed offset.
import { TerminalError } from '../../../protocol/errors.js';

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The business day (YYYY-MM-DD) an instant falls on in the zone. */
export function businessDayOf(at: Date, timeZone: string): string {
  let f = dayFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(at).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

export interface DayBounds {
  /** The first instant of the day. */
  start: Date;
  /** The first instant of the next day (the day is [start, end)). */
  end: Date;
}

/** The instants a business day spans in the zone. */
export function businessDayBounds(day: string, timeZone: string): DayBounds {
  const m = DAY.exec(day);
  const [y, mo, d] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
  const utcMidnight = Date.UTC(y, mo - 1, d);
  if (!m || new Date(utcMidnight).toISOString().slice(0, 10) !== day) {
    throw new TerminalError('E_INPUT_INVALID', `"${day}" is not a day (YYYY-MM-DD)`);
  }
  return {
    start: new Date(firstInstantOnOrAfter(day, utcMidnight, timeZone)),
    end: new Date(firstInstantOnOrAfter(nextDay(day), utcMidnight + 86_400_000, timeZone)),
  };
}

/** The least instant whose local day is `day` or later: local days only move forward with time. */
function firstInstantOnOrAfter(day: string, utcMidnight: number, timeZone: string): number {
  // Every zone's offset is within ±14 h (some days of history aside, ±15 h covers them).
  let lo = utcMidnight - 15 * 3_600_000;
  let hi = utcMidnight + 15 * 3_600_000;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (businessDayOf(new Date(mid), timeZone) >= day) hi = mid;
    else lo = mid;
  }
  return hi;
}

function nextDay(day: string): string {
  const t = Date.parse(`${day}T00:00:00Z`) + 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}
