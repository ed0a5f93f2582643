// Term of validity: 4-byte BCD YYYYMMDD; a card is valid through the end of that day (UTC).
// Transaction dates are uint32 seconds since 1970-01-01T00:00:00Z.

export function encodeValidity(yyyymmdd: string): Uint8Array {
  if (!/^\d{8}$/.test(yyyymmdd) || !isCalendarDate(yyyymmdd)) throw new RangeError(`not a date: ${yyyymmdd}`);
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) out[i] = (Number(yyyymmdd[2 * i]) << 4) | Number(yyyymmdd[2 * i + 1]);
  return out;
}

export function decodeValidity(bcd: Uint8Array): string {
  if (bcd.length !== 4) throw new RangeError('validity is 4 BCD bytes');
  let text = '';
  for (const b of bcd) {
    const hi = b >> 4;
    const lo = b & 0x0f;
    if (hi > 9 || lo > 9) throw new RangeError('validity is not BCD');
    text += `${hi}${lo}`;
  }
  if (!isCalendarDate(text)) throw new RangeError(`validity is not a calendar date: ${text}`);
  return text;
}

/** First second (Unix time) after the validity day ends. */
export function validityEnd(yyyymmdd: string): number {
  const y = Number(yyyymmdd.slice(0, 4));
  const m = Number(yyyymmdd.slice(4, 6));
  const d = Number(yyyymmdd.slice(6, 8));
  return Date.UTC(y, m - 1, d + 1) / 1000;
}

export function isExpired(yyyymmdd: string, unixSeconds: number): boolean {
  return unixSeconds >= validityEnd(yyyymmdd);
}

export function unixSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

function isCalendarDate(text: string): boolean {
  const y = Number(text.slice(0, 4));
  const m = Number(text.slice(4, 6));
  const d = Number(text.slice(6, 8));
  const date = new Date(Date.UTC(y, m - 1, d));
  return y >= 1970 && date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}
