// One journal entry's payload in a few words for the log table: the amount and the cards of a
// transfer's start, the route of a key update, the code of a refusal.
import type { JournalRecordWire } from '../../electron/ipc/contract.js';
import { formatMoney, type MoneyFormat } from '../../protocol/money-format.js';
import { shortId } from './format.js';

export function recordDetails(r: JournalRecordWire, money: MoneyFormat): string {
  const p = r.payload;
  const parts: string[] = [];
  if (typeof p.amount === 'number') parts.push(formatMoney(p.amount, money));
  if (typeof p.payerId === 'string' && typeof p.payeeId === 'string')
    parts.push(`${shortId(p.payerId)} → ${shortId(p.payeeId)}`);
  if (typeof p.route === 'string') parts.push(`${p.route} route`);
  if (typeof p.code === 'string') parts.push(p.code);
  return parts.join(', ');
}
