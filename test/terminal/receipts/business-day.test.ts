// The shop's business day in its own time zone: days of 23 and 25 hours where the clocks change, a day
// that starts at 01:00 where the clocks jump at midnight, zones far from UTC, malformed days refused.
import { describe, expect, it } from 'vitest';
import { businessDayBounds, businessDayOf } from '../../../electron/services/receipts/business-day.js';

const hours = (b: { start: Date; end: Date }) => (b.end.getTime() - b.start.getTime()) / 3_600_000;

describe('the business day', () => {
  it('is the calendar day on the shop’s clock, not in UTC', () => {
    const at = new Date('2026-07-13T23:30:00Z');
    expect(businessDayOf(at, 'UTC')).toBe('2026-07-13');
    expect(businessDayOf(at, 'Europe/Berlin')).toBe('2026-07-14');
    expect(businessDayOf(at, 'America/New_York')).toBe('2026-07-13');
    expect(businessDayOf(new Date('2026-07-14T10:00:00Z'), 'Pacific/Kiritimati')).toBe('2026-07-15');
  });

  it('spans 24 hours from local midnight on an ordinary day', () => {
    const b = businessDayBounds('2026-07-14', 'Europe/Dublin');
    expect(b.start.toISOString()).toBe('2026-07-13T23:00:00.000Z');
    expect(b.end.toISOString()).toBe('2026-07-14T23:00:00.000Z');
  });

  it('is 23 hours long when the clocks go forward and 25 when they go back', () => {
    expect(hours(businessDayBounds('2026-03-29', 'Europe/Dublin'))).toBe(23);
    expect(hours(businessDayBounds('2026-10-25', 'Europe/Dublin'))).toBe(25);
    expect(hours(businessDayBounds('2026-03-08', 'America/New_York'))).toBe(23);
  });

  it('starts at 01:00 where the clocks jump from midnight (Chile, first Sunday of September)', () => {
    const b = businessDayBounds('2026-09-06', 'America/Santiago');
    expect(b.start.toISOString()).toBe('2026-09-06T04:00:00.000Z');
    expect(hours(b)).toBe(23);
    expect(businessDayOf(new Date(b.start.getTime() - 1), 'America/Santiago')).toBe('2026-09-05');
  });

  it('has bounds that are the first instant of the day and of the next, in any zone', () => {
    for (const tz of [
      'UTC',
      'Pacific/Kiritimati',
      'Pacific/Pago_Pago',
      'Asia/Kathmandu',
      'Australia/Lord_Howe',
    ]) {
      for (const day of ['2026-01-01', '2026-04-05', '2026-10-04', '2026-12-31']) {
        const { start, end } = businessDayBounds(day, tz);
        expect(businessDayOf(start, tz), `${tz} ${day}`).toBe(day);
        expect(businessDayOf(new Date(start.getTime() - 1), tz)).not.toBe(day);
        expect(businessDayOf(new Date(end.getTime() - 1), tz)).toBe(day);
        expect(businessDayOf(end, tz)).not.toBe(day);
      }
    }
  });

  it('refuses what is not a day', () => {
    for (const day of ['2026-02-30', '2026-13-01', '14/07/2026', '2026-7-14', '']) {
      expect(() => businessDayBounds(day, 'UTC'), day).toThrow(/is not a day/);
    }
  });
});
