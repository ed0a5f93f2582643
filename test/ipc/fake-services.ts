// Terminal services made of spies, for the IPC layer's tests: every method records its calls and
// answers a fixed value of the right shape; nothing touches a card or a database.
import { vi } from 'vitest';
import type { HandlerServices } from '../../electron/ipc/handlers.js';
import { CardOperations } from '../../electron/services/card-operations.js';
import { CONTENT_COMPLETED, SHOP_CONFIG, saleEntriesFor, shopFakes } from '../support/shop-fakes.js';
import { Z_REPORT } from './z-report-sample.js';

export const CARD_VIEW = {
  slot: 'payer' as const,
  holderId: '00112233445566778899AABBCCDDEEFF',
  validity: '20301231',
  expired: false,
  currency: 978,
  ownerLoggedIn: false,
  transferKeyId: 1,
  transferKeyIdLimit: 6,
  prestoredTransferKeyIds: [],
  updateKeyId: 1,
  updateKeyIdLimit: 3,
  unsettledDebits: 0,
  pendingCredits: 0,
  certificate: {
    serial: '7',
    subject: 'CN=Alice',
    notAfter: '2030-12-31T00:00:00.000Z',
    status: 'valid' as const,
  },
};

export function fakeServices() {
  const crlStatus = { state: 'fresh' as const, revokedCount: 0 };
  const shop = shopFakes((_name, answer) => vi.fn(answer));
  const completed = CONTENT_COMPLETED;
  const services = {
    engine: {
      readCard: vi.fn(async () => CARD_VIEW),
      login: vi.fn(async () => ({ ...CARD_VIEW, ownerLoggedIn: true, balance: 100 })),
      transfer: vi.fn(async () => ({
        status: 'completed' as const,
        flowId: 'f1',
        amount: 1,
        keyUpdates: [],
        balances: { payer: undefined, payee: undefined },
        warnings: [],
      })),
      updateKeys: vi.fn(async () => []),
      inDoubt: vi.fn(() => []),
      unblockPin: vi.fn(async (_slot: string, _puk: string, _pin: string) => undefined),
    },
    contents: {
      listContents: vi.fn(async () => ({
        slot: 'payer' as const,
        holderId: CARD_VIEW.holderId,
        access: { owner: false, session: 'none' as const },
        items: [],
      })),
      logout: vi.fn(async () => undefined),
      send: vi.fn(async () => ({ ...completed, kind: 'content-transfer' as const })),
      exchange: vi.fn(async () => completed),
      alterContent: vi.fn(async () => ({ status: 'completed' as const, flowId: completed.flowId })),
      currentSession: vi.fn(() => undefined),
      authenticate: vi.fn(async () => {
        const side = (slot: 'payer' | 'payee', holderId: string, peerHolderId: string) => ({
          slot,
          holderId,
          peerHolderId,
          mode: 'basic' as const,
          sessionId: '0F'.repeat(16),
          level: 'basic' as const,
        });
        return {
          payer: side('payer', CARD_VIEW.holderId, 'FF'.repeat(16)),
          payee: side('payee', 'FF'.repeat(16), CARD_VIEW.holderId),
          warnings: [],
        };
      }),
    },
    journal: {
      verifyParallel: vi.fn(async () => ({ ok: true as const, count: 0 })),
      entriesForFlow: vi.fn(saleEntriesFor),
    },
    reports: {
      log: { page: vi.fn(() => ({ records: [], nextBeforeSeq: undefined })) },
      facts: { refundsOf: vi.fn((_ids: readonly string[]) => new Map()) },
      day: {
        today: vi.fn(() => '2026-11-21'),
        summary: vi.fn(() => ({ today: '2026-11-21', report: Z_REPORT, refundedSales: [] })),
        export: vi.fn(async () => ({
          fileName: 'z.csv',
          mimeType: 'text/csv',
          bytes: new Uint8Array([0x61]),
        })),
      },
    },
    operations: new CardOperations(),
    recovery: {
      run: vi.fn(async () => ({ transfers: [], contents: [], adopted: 0, failures: [] })),
      inDoubt: vi.fn(() => ({ transfers: [], deliveries: [], contents: [] })),
    },
    flows: { closedOn: vi.fn(() => []), ...shop.flowsExtra },
    crl: { status: vi.fn(() => crlStatus), refresh: vi.fn(async () => crlStatus) },
    slots: {
      status: vi.fn(() => [
        { slot: 'payer' as const, readerPresent: true, cardPresent: true },
        { slot: 'payee' as const, readerPresent: true, cardPresent: false },
      ]),
    },
    config: SHOP_CONFIG,
    ownerLogins: shop.ownerLogins,
    desk: shop.desk,
    issuing: shop.issuing,
    tray: shop.tray,
    kiosk: { active: vi.fn(() => true), exit: vi.fn(async (_pin: string) => undefined) },
  } satisfies HandlerServices;
  const spies = [
    ...Object.values(services.engine),
    ...Object.values(services.contents),
    ...Object.values(services.recovery),
    ...Object.values(services.journal),
    services.reports.log.page,
    services.reports.facts.refundsOf,
    ...Object.values(services.reports.day),
    ...Object.values(services.crl),
    ...Object.values(services.slots),
    ...Object.values(services.kiosk),
    ...Object.values(services.ownerLogins),
    ...Object.values(services.desk),
    ...Object.values(services.tray),
    services.issuing.issue,
  ] as unknown as { mock: { calls: unknown[] } }[];
  return { services, spies, calls: () => spies.reduce((n, s) => n + s.mock.calls.length, 0) };
}
