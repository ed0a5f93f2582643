// A log entry's flow in a few words, as a POS journal reads: what business it was, how much, which
// cards (by their holders' names) and items, the route of a key update, the operator, a refund's
// sale and a sale's refunds, and the code of a refusal.
import type { FlowFactsWire, LogRecordWire } from '../../electron/ipc/contract.js';
import { formatMoney, type MoneyFormat } from '../../protocol/money-format.js';
import { shortId } from './format.js';
import { kindLabel } from './labels.js';

const BUSINESS_TITLE: Readonly<Record<string, string>> = {
  sale: 'Sale',
  refund: 'Refund',
  exchange: 'Exchange',
  'item-send': 'Item sent',
  issue: 'Issue',
  registration: 'Registration',
  'key-update': 'Key update',
  recovery: 'Recovery',
};

/** The kind of business of the entry's flow ("Sale", "Issue"...), or the journal's kind. */
export function flowTitle(r: LogRecordWire): string {
  return (r.flow && BUSINESS_TITLE[r.flow.business]) ?? kindLabel(r.flowKind);
}

const who = (p: FlowFactsWire['from']) => (p ? (p.label ?? shortId(p.holderId)) : '?');

function offer(o: FlowFactsWire['gives'], money: MoneyFormat): string {
  if (!o) return '?';
  return 'amount' in o ? formatMoney(o.amount, money) : `${o.item.label} (${o.item.type})`;
}

export function recordDetails(r: LogRecordWire, money: MoneyFormat): string {
  const f = r.flow;
  const parts: string[] = [];
  if (!f) {
    if (typeof r.payload.amount === 'number') parts.push(formatMoney(r.payload.amount, money));
  } else if (f.business === 'sale' || f.business === 'refund') {
    if (f.amount !== undefined) parts.push(formatMoney(f.amount, money));
    parts.push(`${who(f.from)} → ${who(f.to)}`);
    if (f.refundOf) parts.push(`refund of ${f.refundOf.slice(0, 8)}`);
    if (r.refundedBy?.length) parts.push(`refunded (${r.refundedBy.map((id) => id.slice(0, 8)).join(', ')})`);
  } else if (f.business === 'exchange') {
    parts.push(
      `${who(f.from)} gives ${offer(f.gives, money)}`,
      `${who(f.to)} gives ${offer(f.takes, money)}`,
    );
  } else if (f.business === 'item-send') {
    parts.push(offer(f.gives, money), `${who(f.from)} → ${who(f.to)}`);
  } else if (f.business === 'issue') {
    const item = f.items[0];
    parts.push(`${item ? `${item.label} (${item.type})` : 'an item'} on ${who(f.to)}`);
  } else if (f.route) parts.push(`${f.route} route`);
  if (r.operatorName) parts.push(`by ${r.operatorName}`);
  if (typeof r.payload.code === 'string') parts.push(r.payload.code);
  return parts.join(' · ');
}
