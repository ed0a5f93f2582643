// What every shop document (receipt, Z report) carries besides its flows: the shop's name, the
// terminal's ID, the time zone the shop's day and clock are in, and how its currency is shown. Text
// that reaches a document from a card, a configuration or an operator is made printable here, once:
// control characters (an ESC/POS command hidden in a card label would drive the printer: open the cash
// drawer, cut, change code page) and text-direction overrides (which could make a printed amount read
// differently) are removed; the locale's special spaces become plain ones every printer has.
import { z } from 'zod';
import { TerminalError } from '../../../protocol/errors.js';
import { formatMoney, type MoneyFormat } from '../../../protocol/money-format.js';

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export function isLocale(name: string): boolean {
  try {
    return Intl.NumberFormat.supportedLocalesOf([name]).length === 1;
  } catch {
    return false;
  }
}

export const documentSettingsSchema = z.object({
  shopName: z.string().trim().min(1).max(60),
  terminalId: z.string().trim().min(1).max(64),
  /** IANA time zone of the shop (Europe/Dublin): its clock on receipts and its business day. */
  timeZone: z.string().refine(isTimeZone, 'is not a time zone the runtime knows'),
  money: z.object({
    currencyCode: z.string().regex(/^[A-Z]{3}$/),
    minorUnits: z.number().int().min(0).max(4),
    locale: z.string().refine(isLocale, 'is not a locale the runtime knows'),
  }),
});

export type DocumentSettings = z.infer<typeof documentSettingsSchema>;

/** Validated settings (E_INPUT_INVALID naming the field otherwise). */
export function documentSettings(raw: unknown): DocumentSettings {
  return parseOrRefuse(documentSettingsSchema, raw, 'document settings');
}

export function parseOrRefuse<T>(schema: z.ZodType<T>, raw: unknown, what: string): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  throw new TerminalError('E_INPUT_INVALID', `${what}: ${first?.path.join('.')} ${first?.message}`, {
    issues: parsed.error.issues,
  });
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed here
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;
const SPACES = /[\u00a0\u2000-\u200a\u202f\u205f\u3000]/g;

/** Text as every rendering can show it: no control or direction characters, plain spaces, one line. */
export function printable(text: string): string {
  return text.normalize('NFC').replace(SPACES, ' ').replace(UNPRINTABLE, '').replace(/ {2,}/g, ' ').trim();
}

/** A holder ID (hex) as a receipt shows it: the first and last 4 digits. */
export function maskCardId(hex: string): string {
  const h = hex.toUpperCase();
  return h.length <= 8 ? h : `${h.slice(0, 4)}…${h.slice(-4)}`;
}

/** Money as the shop's locale writes it, with plain spaces. */
export function money(minor: number, f: MoneyFormat): string {
  return printable(formatMoney(minor, f));
}

export interface LocalTime {
  /** The local date as the locale writes it, with the month named (never ambiguous): "21 Nov 2026". */
  date: string;
  /** The local time with its offset from UTC: "17:05:09 GMT+1". */
  time: string;
  /** The IANA zone: "Europe/Dublin". */
  timeZone: string;
}

export function localTime(at: Date, s: Pick<DocumentSettings, 'timeZone' | 'money'>): LocalTime {
  const { timeZone } = s;
  const date = new Intl.DateTimeFormat(s.money.locale, {
    timeZone,
    day: 'numeric',
    month: 'short',
    year: 'numeric',
  }).format(at);
  const time = new Intl.DateTimeFormat(s.money.locale, {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'shortOffset',
  }).format(at);
  return { date: printable(date), time: printable(time), timeZone };
}
