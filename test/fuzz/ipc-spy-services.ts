// Terminal services for the IPC fuzzer: every method records its call and answers a fixed value of
// the right shape. Plain functions, not vitest spies, so the fuzz core also runs outside vitest (the
// soak command).
import type { HandlerServices } from '../../electron/ipc/handlers.js';
import { CardOperations } from '../../electron/services/card-operations.js';
import { Z_REPORT } from '../ipc/z-report-sample.js';
import { CONTENT_COMPLETED, SHOP_CONFIG, shopFakes } from '../support/shop-fakes.js';

export interface ServiceCall {
  service: string;
  args: unknown[];
}

const HOLDER = '00112233445566778899AABBCCDDEEFF';
const PEER = 'FF'.repeat(16);
const CARD_VIEW = {
  slot: 'payer' as const,
  holderId: HOLDER,
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

export function spyServices(): { services: HandlerServices; calls: ServiceCall[] } {
  const calls: ServiceCall[] = [];
  const spy =
    <A extends unknown[], R>(service: string, answer: (...args: A) => R) =>
    (...args: A): R => {
      calls.push({ service, args });
      return answer(...args);
    };
  const crlStatus = { state: 'fresh' as const, revokedCount: 0 };
  const shop = shopFakes(spy);
  const completed = CONTENT_COMPLETED;
  const side = (slot: 'payer' | 'payee', holderId: string, peerHolderId: string) => ({
    slot,
    holderId,
    peerHolderId,
    mode: 'basic' as const,
    sessionId: '0F'.repeat(16),
    level: 'basic' as const,
  });
  // Not a literal in place: the handlers' needs of the flow store change (refundsOf, closedOn); both answer.
  const flows = {
    closedOn: spy('flows.closedOn', (_kind: string, _day: string) => []),
    ...shop.flowsExtra,
  };
  const services = {
    engine: {
      readCard: spy('engine.readCard', async () => CARD_VIEW),
      login: spy('engine.login', async () => ({ ...CARD_VIEW, ownerLoggedIn: true, balance: 100 })),
      transfer: spy('engine.transfer', async () => ({
        status: 'completed' as const,
        flowId: 'f1',
        amount: 1,
        keyUpdates: [],
        balances: { payer: undefined, payee: undefined },
        warnings: [],
      })),
      updateKeys: spy('engine.updateKeys', async () => []),
      inDoubt: spy('engine.inDoubt', () => []),
      unblockPin: spy('engine.unblockPin', async (_slot: string, _puk: string, _pin: string) => undefined),
    },
    contents: {
      listContents: spy('contents.listContents', async () => ({
        slot: 'payer' as const,
        holderId: HOLDER,
        access: { owner: false, session: 'none' as const },
        items: [],
      })),
      logout: spy('contents.logout', async () => undefined),
      send: spy('contents.send', async () => ({ ...completed, kind: 'content-transfer' as const })),
      exchange: spy('contents.exchange', async () => completed),
      alterContent: spy('contents.alterContent', async () => ({
        status: 'completed' as const,
        flowId: completed.flowId,
      })),
      currentSession: spy('contents.currentSession', () => undefined),
      authenticate: spy('contents.authenticate', async () => ({
        payer: side('payer', HOLDER, PEER),
        payee: side('payee', PEER, HOLDER),
        warnings: [],
      })),
    },
    journal: {
      verifyParallel: spy('journal.verifyParallel', async () => ({ ok: true as const, count: 0 })),
      entriesForFlow: shop.entriesForFlow,
    },
    flows,
    recovery: {
      run: spy('recovery.run', async () => ({ transfers: [], contents: [], adopted: 0, failures: [] })),
      inDoubt: spy('recovery.inDoubt', () => ({ transfers: [], deliveries: [], contents: [] })),
    },
    reports: {
      log: { page: spy('reports.log.page', () => ({ records: [], nextBeforeSeq: undefined })) },
      facts: { refundsOf: spy('reports.facts.refundsOf', (_ids: readonly string[]) => new Map()) },
      day: {
        today: spy('reports.day.today', () => '2026-11-21'),
        summary: spy('reports.day.summary', () => ({
          today: '2026-11-21',
          report: Z_REPORT,
          refundedSales: [],
        })),
        export: spy('reports.day.export', async () => ({
          fileName: 'z.csv',
          mimeType: 'text/csv',
          bytes: new Uint8Array([0x61]),
        })),
      },
    },
    operations: new CardOperations(),
    crl: { status: spy('crl.status', () => crlStatus), refresh: spy('crl.refresh', async () => crlStatus) },
    slots: {
      status: spy('slots.status', () => [
        { slot: 'payer' as const, readerPresent: true, cardPresent: true },
        { slot: 'payee' as const, readerPresent: true, cardPresent: false },
      ]),
    },
    config: SHOP_CONFIG,
    ownerLogins: shop.ownerLogins,
    desk: shop.desk,
    issuing: shop.issuing,
    tray: shop.tray,
    kiosk: {
      active: spy('kiosk.active', () => true),
      exit: spy('kiosk.exit', async (_pin: string) => undefined),
    },
  } satisfies HandlerServices;
  return { services, calls };
}
