// A journaled flow as the shop's documents see it: which kind of business (sale, refund, exchange,
// item sent, issue), which card is the shop's and which the customer's whoever paid, what moved, who
// ran it, how it ended. Key updates and administration are none.
import { describe, expect, it } from 'vitest';
import type { FlowKind, JournalRecord } from '../../../db/journal.js';
import { shopFlowOf } from '../../../electron/services/reports/shop-flow-of.js';

const ALICE = 'A1'.repeat(16);
const SHOP = '5B'.repeat(16);
const names = { operatorName: (id: string) => (id === 'casey' ? 'Casey' : id) };

function flow(kind: FlowKind, steps: [string, Record<string, unknown>][]): JournalRecord[] {
  return steps.map(([step, payload], i) => ({
    seq: i + 1,
    at: `2026-07-14T16:0${i}:00.000Z`,
    flowId: 'f-1',
    flowKind: kind,
    step,
    payload,
    tag: '00'.repeat(8),
  }));
}
const transfer = (
  extra: Record<string, unknown>,
  payer = ALICE,
  payee = SHOP,
  labels = ['Alice', 'Corner Shop'],
) => ({
  payerId: payer,
  payeeId: payee,
  payerLabel: labels[0],
  payeeLabel: labels[1],
  amount: 1250,
  currency: 978,
  date: 0,
  operator: 'casey',
  ...extra,
});

describe('shopFlowOf', () => {
  it('reads a completed payment as a sale: the payer is the customer, the payee the shop', () => {
    const f = shopFlowOf(
      flow('value-transfer', [
        ['started', transfer({})],
        ['completed', {}],
      ]),
      names,
    );
    expect(f).toEqual({
      flow: {
        kind: 'sale',
        flowId: 'f-1',
        at: '2026-07-14T16:01:00.000Z',
        operator: { id: 'casey', name: 'Casey' },
        result: 'completed',
        amount: 1250,
      },
      shopCard: { holderId: SHOP, label: 'Corner Shop' },
      customerCard: { holderId: ALICE, label: 'Alice' },
    });
  });

  it('reads a payment naming a sale as its refund: the shop’s card pays', () => {
    const f = shopFlowOf(
      flow('value-transfer', [
        ['started', transfer({ refundOf: 'sale-1' }, SHOP, ALICE, ['Corner Shop', 'Alice'])],
        ['completed', {}],
      ]),
      names,
    );
    expect(f?.flow).toMatchObject({ kind: 'refund', refundOf: 'sale-1', amount: 1250, result: 'completed' });
    expect(f?.shopCard.holderId).toBe(SHOP);
    expect(f?.customerCard?.holderId).toBe(ALICE);
  });

  it('says in doubt while value may be in flight (at its start), and not completed once rolled back', () => {
    const open = shopFlowOf(
      flow('value-transfer', [
        ['started', transfer({})],
        ['debit-initiated', { txRandom: '00' }],
        ['credit-initiated', { rxRandom: '00', challenge: '01' }],
      ]),
      names,
    );
    expect(open?.flow).toMatchObject({ result: 'in-doubt', at: '2026-07-14T16:00:00.000Z' });
    const back = shopFlowOf(
      flow('value-transfer', [
        ['started', transfer({})],
        ['rolled-back', { code: 'E_BALANCE_LIMIT' }],
      ]),
      names,
    );
    expect(back?.flow.result).toBe('not-completed');
  });

  it('reads an exchange from the customer’s side whichever card started it', () => {
    const offer = {
      itemId: 'AB'.repeat(16),
      label: 'Concert 24 Dec',
      type: 'ticket',
      policy: 'issuer-alterable',
    };
    const f = shopFlowOf(
      flow('content-exchange', [
        [
          'started',
          {
            initiatorSlot: 'payer',
            initiatorId: ALICE,
            initiatorLabel: 'Alice',
            responderSlot: 'payee',
            responderId: SHOP,
            responderLabel: 'Corner Shop',
            give: { amount: 1500, currency: 978 },
            take: offer,
            sessionId: '00',
          },
        ],
        ['completed', {}],
      ]),
      names,
    );
    expect(f?.flow).toMatchObject({
      kind: 'exchange',
      customerGives: { amount: 1500 },
      shopGives: { item: { type: 'ticket', label: 'Concert 24 Dec' } },
    });
    expect(f?.shopCard.label).toBe('Corner Shop');
  });

  it('reads an item sent from the shop’s card as sent to the customer', () => {
    const f = shopFlowOf(
      flow('content-transfer', [
        [
          'started',
          {
            senderSlot: 'payee',
            senderId: SHOP,
            senderLabel: 'Corner Shop',
            receiverSlot: 'payer',
            receiverId: ALICE,
            receiverLabel: 'Alice',
            offer: { itemId: 'CD'.repeat(16), label: 'Free coffee', type: 'coupon', policy: 'public' },
            sessionId: '00',
          },
        ],
        ['completed', {}],
      ]),
      names,
    );
    expect(f?.flow).toMatchObject({
      kind: 'item-send',
      direction: 'to-customer',
      item: { label: 'Free coffee' },
    });
  });

  it('reads an issuance as an issue on the shop’s card, and nothing else of administration', () => {
    const issued = shopFlowOf(
      flow('admin', [
        [
          'issue-requested',
          {
            slot: 'payee',
            cardHolderId: SHOP,
            cardLabel: 'Corner Shop',
            item: {
              id: 'EF'.repeat(16),
              type: 'ticket',
              issuerId: '00',
              policy: 'issuer-alterable',
              label: 'Gig',
            },
            operator: 'sam',
          },
        ],
        ['issue-authorized', {}],
        ['completed', {}],
      ]),
      names,
    );
    expect(issued).toMatchObject({
      flow: { kind: 'issue', item: { type: 'ticket', label: 'Gig' }, operator: { id: 'sam', name: 'sam' } },
      shopCard: { holderId: SHOP, label: 'Corner Shop' },
    });
    expect(issued?.customerCard).toBeUndefined();
    expect(
      shopFlowOf(
        flow('admin', [
          ['register-requested', {}],
          ['completed', {}],
        ]),
        names,
      ),
    ).toBeUndefined();
    expect(
      shopFlowOf(
        flow('admin', [
          ['unblock-requested', {}],
          ['completed', {}],
        ]),
        names,
      ),
    ).toBeUndefined();
    expect(
      shopFlowOf(
        flow('key-update', [
          ['planned', {}],
          ['completed', {}],
        ]),
        names,
      ),
    ).toBeUndefined();
    expect(shopFlowOf([], names)).toBeUndefined();
  });
});
