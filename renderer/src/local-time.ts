// Times and days on the shop's clock (its time zone from the terminal, not the browser's), written
// the way the shop's locale writes them, with the zone named: the journal stores UTC instants.

/** "21 Nov 2026, 17:05:09 GMT+1": the local date and time with the offset. */
export function localDateTime(iso: string, locale: string, timeZone: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, {
    timeZone,
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'shortOffset',
  }).format(at);
}

/** A business day (YYYY-MM-DD) as the locale writes a date in figures: 21/11/2026 (en-IE), 21.11.2026 (de-DE). */
export function formatDay(day: string, locale: string): string {
  const [y, m, d] = day.split('-').map(Number);
  if (!y || !m || !d) return day;
  return new Intl.DateTimeFormat(locale, {
    timeZone: 'UTC',
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
  }).format(new Date(Date.UTC(y, m - 1, d)));
}

/** The same day written out: "Saturday 21 November 2026". */
export function longDay(day: string, locale: string): string {
  const [y, m, d] = day.split('-').map(Number);
  if (!y || !m || !d) return day;
  return new Intl.DateTimeFormat(locale, {
    timeZone: 'UTC',
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
  }).format(new Date(Date.UTC(y, m - 1, d)));
}

/** How the locale orders and separates a numeric date, e.g. "DD/MM/YYYY" (en-IE), "DD.MM.YYYY" (de-DE). */
export function dayPattern(locale: string): string {
  return new Intl.DateTimeFormat(locale, {
    timeZone: 'UTC',
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
  })
    .formatToParts(new Date(Date.UTC(2026, 10, 21)))
    .map((p) => (p.type === 'day' ? 'DD' : p.type === 'month' ? 'MM' : p.type === 'year' ? 'YYYY' : p.value))
    .join('');
}

/** Reads a date typed in the locale's order ("21/11/2026", "21.11.2026", "11/21/2026" in en-US) as YYYY-MM-DD. */
export function parseDay(text: string, locale: string): string | undefined {
  const order = dayPattern(locale)
    .split(/[^DMY]+/)
    .filter(Boolean);
  const parts = text
    .trim()
    .split(/[^\d]+/)
    .filter(Boolean);
  if (parts.length !== 3 || order.length !== 3) return undefined;
  const field = (name: string) => Number(parts[order.indexOf(name)]);
  const [y, m, d] = [field('YYYY'), field('MM'), field('DD')];
  if (!(y >= 1000 && y <= 9999)) return undefined;
  const day = `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.toISOString().slice(0, 10) === day ? day : undefined;
}

/** The calendar day after (+1) or before (-1). */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}
