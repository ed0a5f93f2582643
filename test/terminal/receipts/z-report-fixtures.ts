// A business day of the demo shop: two operators and flows from before operators existed, every kind,
// exchanges with e-money either way and item for item, flows that did not complete, one in doubt.
import type { ShopFlow } from '../../../electron/ipc/shop-flow.js';
import type { ZReportInput } from '../../../electron/services/receipts/z-report.js';

const casey = { id: 'casey', name: 'Casey' };
const sam = { id: 'sam', name: 'Sam' };
const ticket = { type: 'ticket', label: 'Concert' };
let n = 0;
const id = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
const at = (hhmm: string) => `2026-07-14T${hhmm}:00+01:00`;

export const DAY_FLOWS: ShopFlow[] = [
  { kind: 'sale', flowId: id(), at: at('09:00'), operator: casey, result: 'completed', amount: 12_50 },
  { kind: 'sale', flowId: id(), at: at('09:30'), operator: casey, result: 'completed', amount: 7_25 },
  { kind: 'sale', flowId: id(), at: at('10:00'), operator: sam, result: 'completed', amount: 100_00 },
  { kind: 'sale', flowId: id(), at: at('10:05'), operator: casey, result: 'not-completed', amount: 999_00 },
  {
    kind: 'refund',
    flowId: id(),
    at: at('11:00'),
    operator: sam,
    result: 'completed',
    amount: 7_25,
    refundOf: 'x',
  },
  {
    kind: 'exchange',
    flowId: id(),
    at: at('12:00'),
    operator: casey,
    result: 'completed',
    customerGives: { amount: 15_00 },
    shopGives: { item: ticket },
  },
  {
    kind: 'exchange',
    flowId: id(),
    at: at('12:30'),
    operator: sam,
    result: 'completed',
    customerGives: { item: ticket },
    shopGives: { amount: 10_00 },
  },
  {
    kind: 'exchange',
    flowId: id(),
    at: at('13:00'),
    operator: casey,
    result: 'completed',
    customerGives: { item: { type: 'coupon', label: 'Coffee' } },
    shopGives: { item: ticket },
  },
  {
    kind: 'exchange',
    flowId: id(),
    at: at('13:10'),
    operator: casey,
    result: 'in-doubt',
    customerGives: { amount: 15_00 },
    shopGives: { item: ticket },
  },
  {
    kind: 'item-send',
    flowId: id(),
    at: at('14:00'),
    operator: casey,
    result: 'completed',
    direction: 'to-customer',
    item: ticket,
  },
  { kind: 'issue', flowId: id(), at: at('08:00'), operator: sam, result: 'completed', item: ticket },
  { kind: 'issue', flowId: id(), at: at('08:01'), operator: sam, result: 'completed', item: ticket },
  { kind: 'sale', flowId: id(), at: at('00:00'), result: 'completed', amount: 1 },
  { kind: 'sale', flowId: id(), at: '2026-07-14T22:59:59.999Z', result: 'completed', amount: 2 },
];

export const DAY: ZReportInput = {
  reportNumber: 42,
  businessDay: '2026-07-14',
  generatedAt: '2026-07-14T23:10:00Z',
  flows: DAY_FLOWS,
  openInDoubt: [
    { flowId: DAY_FLOWS[8]!.flowId, kind: 'exchange', amount: 15_00, since: at('13:10'), operator: casey },
    {
      flowId: '99999999-0000-4000-8000-000000000001',
      kind: 'sale',
      amount: 3_00,
      since: '2026-07-12T18:00:00Z',
    },
  ],
};
