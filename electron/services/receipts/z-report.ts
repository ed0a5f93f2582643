// The Z report: the end of one business day (a calendar day in the shop's time zone) as an accountant
// accepts it. Built from the day's flows alone: counts and totals per kind (sales, refunds, exchanges
// with their e-money leg either way, items sent, items issued), the same per operator, the flows that
// did not complete, and the transfers still in doubt. The totals are sums of the lines, so they
// reconcile by construction; the input is checked for what would make them wrong (a flow of another
// day, a flow twice).
import { z } from 'zod';
import { TerminalError } from '../../../protocol/errors.js';
import type { Amount, ZLine, ZReport } from '../../ipc/documents.js';
import {
  amountSchema,
  itemCount,
  operatorRefSchema,
  SHOP_FLOW_KINDS,
  type ShopFlow,
  shopFlowSchema,
  valueLegs,
} from '../../ipc/shop-flow.js';
import { businessDayBounds, businessDayOf } from './business-day.js';
import {
  type DocumentSettings,
  documentSettings,
  localTime,
  money,
  parseOrRefuse,
  printable,
} from './document-settings.js';

export const inDoubtEntrySchema = z.object({
  flowId: z.string().regex(/^[A-Za-z0-9-]{1,64}$/),
  kind: z.enum(SHOP_FLOW_KINDS),
  /** The e-money in flight, if any. */
  amount: amountSchema.optional(),
  /** When the flow started. */
  since: z.iso.datetime({ offset: true }),
  operator: operatorRefSchema.optional(),
});

export const zReportInputSchema = z.object({
  /** The terminal's consecutive Z number. */
  reportNumber: z.number().int().positive().max(999_999_999),
  /** YYYY-MM-DD in the shop's time zone. */
  businessDay: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  generatedAt: z.iso.datetime({ offset: true }),
  /** Every flow that ended (or, in doubt, started) on the business day, whatever its result. */
  flows: z.array(shopFlowSchema),
  /** Every transfer still in doubt when the report is made, from any day. */
  openInDoubt: z.array(inDoubtEntrySchema),
});
export type ZReportInput = z.input<typeof zReportInputSchema>;
export type InDoubtEntry = z.infer<typeof inDoubtEntrySchema>;
export type { Amount, ZLine, ZReport };

export const KIND_LABELS: Record<ZLine['kind'], string> = {
  sale: 'Sales',
  refund: 'Refunds',
  exchange: 'Exchanges',
  'item-send': 'Items sent',
  issue: 'Items issued',
  total: 'Total',
};

export function buildZReport(input: ZReportInput, settings: DocumentSettings): ZReport {
  const s = documentSettings(settings);
  const z = parseOrRefuse(zReportInputSchema, input, 'Z report input');
  const { start, end } = businessDayBounds(z.businessDay, s.timeZone);
  const seen = new Set<string>();
  for (const [i, f] of z.flows.entries()) {
    if (seen.has(f.flowId)) refuse(`flows.${i}: flow ${f.flowId} is listed twice`);
    seen.add(f.flowId);
    const day = businessDayOf(new Date(f.at), s.timeZone);
    if (day !== z.businessDay)
      refuse(`flows.${i}: flow ${f.flowId} is of ${day}, not ${z.businessDay} (${s.timeZone})`);
  }
  const amount = (minor: number): Amount => {
    if (!Number.isSafeInteger(minor)) refuse('the day’s totals exceed what can be added exactly');
    return { minor, text: money(minor, s.money) };
  };
  const line = (kind: ZLine['kind'], flows: ShopFlow[]): ZLine => {
    let count = 0;
    let notCompleted = 0;
    let items = 0;
    let valueIn = 0;
    let valueOut = 0;
    for (const f of flows) {
      if (f.result === 'completed') count += 1;
      else notCompleted += 1;
      items += itemCount(f);
      const v = valueLegs(f);
      valueIn += v.valueIn;
      valueOut += v.valueOut;
    }
    return {
      kind,
      label: KIND_LABELS[kind],
      count,
      notCompleted,
      items,
      valueIn: amount(valueIn),
      valueOut: amount(valueOut),
      net: amount(valueIn - valueOut),
    };
  };
  const perKind = (flows: ShopFlow[]) =>
    SHOP_FLOW_KINDS.map((k) =>
      line(
        k,
        flows.filter((f) => f.kind === k),
      ),
    );

  const byOperator = new Map<string, { name: string; flows: ShopFlow[] }>();
  for (const f of z.flows) {
    const id = f.operator?.id ?? '';
    const entry = byOperator.get(id) ?? {
      name: f.operator ? printable(f.operator.name) || id : '(no operator)',
      flows: [],
    };
    entry.flows.push(f);
    byOperator.set(id, entry);
  }
  const operators = [...byOperator.entries()]
    .sort(([a], [b]) => (a === '' ? 1 : b === '' ? -1 : a.localeCompare(b)))
    .map(([id, { name, flows }]) => ({
      id,
      name,
      lines: perKind(flows).filter((l) => l.count + l.notCompleted > 0),
      total: line('total', flows),
    }));

  const t = (at: Date) => {
    const l = localTime(at, s);
    return `${l.date} ${l.time}`;
  };
  return {
    reportNumber: z.reportNumber,
    shopName: printable(s.shopName),
    terminalId: printable(s.terminalId),
    businessDay: z.businessDay,
    timeZone: s.timeZone,
    from: t(start),
    to: t(end),
    generatedAt: t(new Date(z.generatedAt)),
    currencyCode: s.money.currencyCode,
    minorUnits: s.money.minorUnits,
    kinds: perKind(z.flows),
    total: line('total', z.flows),
    operators,
    openInDoubt: z.openInDoubt.map((d) => ({
      flowId: d.flowId,
      kind: d.kind,
      ...(d.amount !== undefined ? { amount: amount(d.amount) } : {}),
      since: t(new Date(d.since)),
      sinceInstant: new Date(d.since).toISOString(),
      operator: d.operator ? printable(d.operator.name) || d.operator.id : '',
    })),
  };
}

function refuse(message: string): never {
  throw new TerminalError('E_INPUT_INVALID', `Z report input: ${message}`);
}
