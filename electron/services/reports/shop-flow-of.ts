// One journaled flow as the shop's documents see it (electron/ipc/shop-flow.ts): a value transfer is
// a sale, or a refund when it names the sale it pays back (refundOf); a content exchange is an
// exchange, a content transmission of an item an item sent, an issuance an issue. The shop's card is
// the one in the payee slot, the customer's the one in the payer slot, whichever of them paid. Key
// updates, registrations and other administration are no business of a receipt: undefined.
//
// Read from the journal's own entries (docs/journal.md) through today's API, one flow at a time: the
// journal's per-flow facts table, when it comes, answers the same question without the fold.
import type { JournalRecord } from '../../../db/journal.js';
import { type FlowResult, type Leg, type ShopFlow, shopFlowSchema } from '../../ipc/shop-flow.js';
import { CONTENT_STEP, foldContentFlow, type OfferRecord } from '../contents/content-record.js';
import { foldTransfer, TRANSFER_STEP, valueState } from '../settlement/transfer-record.js';

export interface ShopCard {
  holderId: string;
  label: string;
}

/** A flow with the two cards a receipt names. */
export interface ShopFlowFacts {
  flow: ShopFlow;
  shopCard: ShopCard;
  /** Absent for an issue: nothing reached a customer. */
  customerCard?: ShopCard;
}

export interface ShopFlowContext {
  /** The operator's name for the ID the flow was journaled with. */
  operatorName(id: string): string;
}

const CLOSED: readonly string[] = ['completed', 'rolled-back', 'refunded', 'failed-no-value-moved'];

/** The shop flow a journaled flow was, or undefined when it was none (key update, registration...). */
export function shopFlowOf(
  entries: readonly JournalRecord[],
  ctx: ShopFlowContext,
): ShopFlowFacts | undefined {
  const first = entries[0];
  const last = entries.at(-1);
  if (!first || !last) return undefined;
  const p = first.payload;
  const open = !CLOSED.includes(last.step);
  const operator =
    typeof p.operator === 'string' && p.operator !== ''
      ? { id: p.operator.slice(0, 32), name: ctx.operatorName(p.operator).slice(0, 60) }
      : undefined;
  const ended = (result: FlowResult) => ({
    flowId: first.flowId,
    // When it ended; one still in doubt, when it started.
    at: result === 'in-doubt' ? first.at : last.at,
    operator,
    result,
  });
  const card = (role: string): ShopCard => ({
    holderId: String(p[`${role}Id`] ?? ''),
    label: String(p[`${role}Label`] ?? '').slice(0, 80),
  });
  const parse = (flow: unknown) => shopFlowSchema.parse(flow);

  switch (first.flowKind) {
    case 'value-transfer': {
      const r = foldTransfer([...entries]);
      const result: FlowResult =
        r.lastStep === TRANSFER_STEP.COMPLETED
          ? 'completed'
          : open && valueState(r) === 'in-doubt'
            ? 'in-doubt'
            : 'not-completed';
      const refundOf = typeof p.refundOf === 'string' ? p.refundOf : undefined;
      const [shop, customer] = refundOf ? ['payer', 'payee'] : ['payee', 'payer'];
      const common = { ...ended(result), amount: r.amount };
      const flow = parse(refundOf ? { kind: 'refund', ...common, refundOf } : { kind: 'sale', ...common });
      return { flow, shopCard: card(shop), customerCard: card(customer) };
    }
    case 'content-exchange':
    case 'content-transfer': {
      const r = foldContentFlow([...entries]);
      const result: FlowResult =
        r.lastStep === CONTENT_STEP.COMPLETED ? 'completed' : open ? 'in-doubt' : 'not-completed';
      const [fromRole, toRole] =
        r.kind === 'content-exchange' ? ['initiator', 'responder'] : ['sender', 'receiver'];
      const shopFirst = r.fromSlot === 'payee';
      const [shop, customer] = shopFirst ? [fromRole, toRole] : [toRole, fromRole];
      const cards = { shopCard: card(shop), customerCard: card(customer) };
      if (r.kind === 'content-exchange') {
        const give = leg(r.offer);
        const take = leg(r.take);
        if (!give || !take) return undefined;
        const [customerGives, shopGives] = shopFirst ? [take, give] : [give, take];
        return { flow: parse({ kind: 'exchange', ...ended(result), customerGives, shopGives }), ...cards };
      }
      const sent = leg(r.offer);
      if (!sent || !('item' in sent)) return undefined;
      const direction = shopFirst ? 'to-customer' : 'to-shop';
      return { flow: parse({ kind: 'item-send', ...ended(result), direction, item: sent.item }), ...cards };
    }
    case 'admin': {
      if (first.step !== 'issue-requested') return undefined;
      const item = p.item as { type?: unknown; label?: unknown } | undefined;
      const result: FlowResult =
        last.step === 'completed' ? 'completed' : open ? 'in-doubt' : 'not-completed';
      return {
        flow: parse({
          kind: 'issue',
          ...ended(result),
          item: { type: String(item?.type ?? ''), label: String(item?.label ?? '') },
        }),
        shopCard: { holderId: String(p.cardHolderId ?? ''), label: String(p.cardLabel ?? '').slice(0, 80) },
      };
    }
    default:
      return undefined;
  }
}

function leg(o: OfferRecord | undefined): Leg | undefined {
  if (!o) return undefined;
  if ('amount' in o) return { amount: o.amount };
  return { item: { type: o.type, label: o.label } };
}
