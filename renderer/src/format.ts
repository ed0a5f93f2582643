// Small display helpers of the operator screen: card IDs, holder names, dates and masked amounts.
import { formatMoney, type MoneyFormat } from '../../protocol/money-format.js';

/** A card's holder ID shortened for a narrow column; the full ID goes in a title. */
export function shortId(hex: string): string {
  return hex.length > 12 ? `${hex.slice(0, 8)}…` : hex;
}

/** The holder's name from the certificate subject (CN), or the whole subject. */
export function holderLabel(subject: string): string {
  return /CN=([^,]+)/.exec(subject)?.[1] ?? subject;
}

/** The card's term of validity, YYYYMMDD on the card, as YYYY-MM-DD. */
export function formatValidity(v: string): string {
  return /^\d{8}$/.test(v) ? `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6)}` : v;
}

/** An ISO timestamp as "YYYY-MM-DD HH:MM:SS" (UTC, as the journal stores it). */
export function formatUtc(iso: string): string {
  return iso.slice(0, 19).replace('T', ' ');
}

/** A balance the card may have masked: undefined is never shown as a number. */
export function maybeMoney(minor: number | undefined, money: MoneyFormat): string {
  return minor === undefined ? '•••• (hidden)' : formatMoney(minor, money);
}

/** A service message as a sentence: capital first letter (not of an address), final full stop. */
export function sentence(s: string): string {
  if (!s) return s;
  const start = /^[a-z][a-z0-9+.-]*:\/\//.test(s) ? s : s[0]!.toUpperCase() + s.slice(1);
  return start + (/[.!?]$/.test(s) ? '' : '.');
}

/**
 * A content body (hex) as the operator reads it: its text when it is printable UTF-8 (a seat, a
 * coupon code), else the first bytes in hex.
 */
export function bodyText(hex: string): string {
  const bytes = new Uint8Array((hex.match(/../g) ?? []).map((b) => Number.parseInt(b, 16)));
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused here
    if (text !== '' && !/[\u0000-\u001f\u007f]/.test(text)) return text;
  } catch {
    // not UTF-8: shown as hex
  }
  return hex.length > 24 ? `${hex.slice(0, 24)}…` : hex;
}
