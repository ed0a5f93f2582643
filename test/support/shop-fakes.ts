// The shop's part of the fake terminal services, for the IPC layer's tests and the IPC fuzzer: a desk
// with a supervisor signed in, owner logins, issuing, the card tray, and a journal holding one
// completed sale (flow SALE_FLOW_ID) that receipts and refunds can be asked about. `spy` wraps each
// method: vi.fn in the vitest fakes, a recording function in the fuzzer (which runs outside vitest).
import type { JournalRecord } from '../../db/journal.js';
import type { HandlerServices } from '../../electron/ipc/handlers.js';
import type { WatchedDesk } from '../../electron/services/operators/desk-watch.js';
import type { OwnerLogins } from '../../electron/services/settlement/owner-logins.js';
import type { CardTray } from '../../electron/services/slots/card-tray.js';
import type { ContentItem } from '../../protocol/settlement/contents-codec.js';

export type Spy = <A extends unknown[], R>(service: string, answer: (...args: A) => R) => (...args: A) => R;

export const SALE_FLOW_ID = '3f2a6c1e-8b7d-4c2a-9e1f-0a1b2c3d4e5f';
export const CUSTOMER_ID = '00112233445566778899AABBCCDDEEFF';
export const SHOP_ID = 'FF'.repeat(16);
const SAM = { id: 'sam', name: 'Sam', role: 'supervisor' as const };

const entry = (seq: number, step: string, payload: Record<string, unknown>): JournalRecord => ({
  seq,
  at: `2026-11-21T10:00:0${seq}.000Z`,
  flowId: SALE_FLOW_ID,
  flowKind: 'value-transfer',
  step,
  payload,
  tag: '00'.repeat(8),
});

/** A sale of €15.00 from the customer's card to the shop's, completed. */
export const SALE_ENTRIES: JournalRecord[] = [
  entry(1, 'started', {
    payerId: CUSTOMER_ID,
    payeeId: SHOP_ID,
    payerSlot: 'payer',
    payeeSlot: 'payee',
    payerLabel: 'Alice',
    payeeLabel: 'Corner Shop',
    amount: 1500,
    currency: 978,
    date: 0,
    operator: 'casey',
  }),
  entry(2, 'completed', { payerSettled: true }),
];

const SALE_STATE = {
  flowId: SALE_FLOW_ID,
  flowKind: 'value-transfer' as const,
  firstSeq: 1,
  lastSeq: 2,
  openedAt: SALE_ENTRIES[0]!.at,
  updatedAt: SALE_ENTRIES[1]!.at,
  lastStep: 'completed',
  terminal: true,
  cards: [],
  items: [],
};

/** A content flow as the fake content engine answers it: completed. */
export const CONTENT_COMPLETED = {
  status: 'completed' as const,
  flowId: 'c0c0c0c0-0000-4000-8000-000000000002',
  kind: 'content-exchange' as const,
  txIds: [],
  balances: { payer: undefined, payee: undefined },
  warnings: [],
};

export const SHOP_CONFIG = {
  currencyCode: 'EUR',
  minorUnits: 2,
  locale: 'en-IE',
  shop: { name: 'Corner Shop', terminalId: 'T-0001', timeZone: 'Europe/Dublin' },
  endOwnerLoginAfterSale: true,
  operators: [],
} satisfies HandlerServices['config'];

/** The journal's entries of a flow: the sale's, none for any other. */
export function saleEntriesFor(flowId: string): JournalRecord[] {
  return flowId === SALE_FLOW_ID ? SALE_ENTRIES : [];
}

export function shopFakes(spy: Spy) {
  const desk: WatchedDesk = {
    operators: spy('desk.operators', () => [SAM]),
    state: spy('desk.state', () => ({ state: 'signed-in' as const, operator: SAM, msUntilLock: 300_000 })),
    signIn: spy('desk.signIn', async (_id: string, _pin: string) => SAM),
    signOut: spy('desk.signOut', () => undefined),
    lock: spy('desk.lock', () => undefined),
    touch: spy('desk.touch', () => undefined),
    authorize: spy('desk.authorize', async (permission, confirmation) => ({
      permission,
      operator: SAM,
      confirmedBy: confirmation ? SAM : undefined,
    })),
    on: spy('desk.on', () => () => undefined),
    check: spy('desk.check', () => undefined),
    close: spy('desk.close', () => undefined),
  };
  const ownerLogins: OwnerLogins = {
    opened: spy('ownerLogins.opened', () => undefined),
    owner: spy('ownerLogins.owner', () => 'local'),
    shownTo: spy('ownerLogins.shownTo', () => true),
    end: spy('ownerLogins.end', async () => undefined),
    ended: spy('ownerLogins.ended', () => undefined),
    screenGone: spy('ownerLogins.screenGone', async () => undefined),
    on: spy('ownerLogins.on', () => () => undefined),
    close: spy('ownerLogins.close', () => undefined),
  };
  const trayCards = [{ id: 'alice', label: 'Alice', note: 'the first customer', place: 'payer' as const }];
  const tray: CardTray = {
    cards: spy('tray.cards', () => trayCards),
    move: spy('tray.move', (_id: string, _to: string) => trayCards),
  };
  const issuing = {
    issuerId: async () => 'AB'.repeat(16),
    issue: spy('issuing.issue', async (_slot: string, item: ContentItem) => ({
      status: 'issued' as const,
      flowId: 'a5a5a5a5-0000-4000-8000-000000000001',
      item,
      cardHolderId: SHOP_ID,
      commandId: '01'.repeat(16),
      authorizationId: 1,
      grantId: '02'.repeat(16),
    })),
  };
  const entriesForFlow = spy('journal.entriesForFlow', saleEntriesFor);
  const flowsExtra = {
    flow: spy('flows.flow', (flowId: string) => (flowId === SALE_FLOW_ID ? SALE_STATE : undefined)),
    refundsOf: spy('flows.refundsOf', (_flowId: string) => []),
  };
  return { desk, ownerLogins, tray, issuing, entriesForFlow, flowsExtra };
}
