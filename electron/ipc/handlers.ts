// The main-process side of the operator contract: one handler per channel, taking the validated
// request and the call's context (which screen asks, who approved it), plus dispatch(), the single
// place where untrusted input is checked and thrown errors become error results. Every handler runs
// only once channel-access.ts admits the call (roles, the lock). The shop's channels live in their own
// modules (handlers-operators.ts, handlers-operations.ts, handlers-documents.ts), merged here.
// Channels that use the cards run as the one card operation of the main process (CARD_ACCESS,
// card-operations.ts); end of day and the log live in handlers-day.ts and handlers-log.ts.
// Transports (the browser host, the Electron IPC) only move frames.
import type { Flows } from '../../db/flows.js';
import type { Journal } from '../../db/journal.js';
import { isTerminalError, TerminalError } from '../../protocol/errors.js';
import type { CardOperations } from '../services/card-operations.js';
import type { TerminalConfig } from '../services/config.js';
import type { ContentEngine } from '../services/contents/content-engine.js';
import type { CrlCache } from '../services/crl/crl-cache.js';
import type { JournalUploader } from '../services/host-link/journal-uploader.js';
import type { IssuingPort } from '../services/issuing/issuing-terminal.js';
import type { WatchedDesk } from '../services/operators/desk-watch.js';
import type { Approval } from '../services/operators/operator-desk.js';
import type { TerminalRecovery } from '../services/recovery/terminal-recovery.js';
import type { OwnerLogins } from '../services/settlement/owner-logins.js';
import type { InDoubtItem, SettlementEngine } from '../services/settlement/settlement-engine.js';
import type { CardTray } from '../services/slots/card-tray.js';
import type { ReaderSlots } from '../services/slots/reader-slots.js';
import { admitCall } from './channel-access.js';
import {
  CARD_ACCESS,
  CHANNELS,
  type Channel,
  type HostStatusWire,
  type InDoubtItemWire,
  inDoubtItem,
  invalidInput,
  isChannel,
  openContentFlow,
  parseRequest,
  pendingDelivery,
  type ResponseOf,
  type Result,
  type ValidRequestOf,
} from './contract.js';
import { type DocumentDelivery, pageDownload } from './document-delivery.js';
import { errorInfo } from './error-info.js';
import { type DayServices, dayHandlers } from './handlers-day.js';
import { documentHandlers } from './handlers-documents.js';
import { type LogServices, logHandlers } from './handlers-log.js';
import { operationHandlers } from './handlers-operations.js';
import { operatorHandlers } from './handlers-operators.js';
import { maskListingForScreen, maskViewForScreen } from './owner-view.js';
import { createShopSupport } from './shop-support.js';

/** What the handlers use of the terminal services (startTerminalServices() returns a superset). */
export interface HandlerServices {
  engine: Pick<SettlementEngine, 'readCard' | 'login' | 'transfer' | 'updateKeys' | 'inDoubt' | 'unblockPin'>;
  contents: Pick<
    ContentEngine,
    'listContents' | 'logout' | 'authenticate' | 'send' | 'exchange' | 'alterContent' | 'currentSession'
  >;
  /** The terminal's one recovery surface: a pass on demand, and what is still open. */
  recovery: Pick<TerminalRecovery, 'run' | 'inDoubt'> & Partial<Pick<TerminalRecovery, 'on'>>;
  journal: Pick<Journal, 'verifyParallel' | 'entriesForFlow'>;
  flows: Pick<Flows, 'closedOn' | 'flow' | 'refundsOf'>;
  crl: Pick<CrlCache, 'status' | 'refresh'>;
  /** The journal's upload to the issuer host; absent without a host. */
  uploader?: Pick<JournalUploader, 'status'> | undefined;
  host?: { url: string } | undefined;
  slots: Pick<ReaderSlots, 'status'>;
  /** One card operation at a time for the whole main process (every window and connection). */
  operations: Pick<CardOperations, 'run'>;
  /** The end of day and the log as the screen reads them (electron/services/reports). */
  reports: DayServices['reports'] & LogServices['reports'];
  config: Pick<
    TerminalConfig,
    'currencyCode' | 'minorUnits' | 'locale' | 'shop' | 'endOwnerLoginAfterSale' | 'operators'
  >;
  /** Which screen opened each card's owner login (startTerminalServices makes it). */
  ownerLogins: OwnerLogins;
  /** Operator sign-in, roles and the idle lock; absent where no operators are configured. */
  desk?: WatchedDesk;
  /** Issuing under a create right (the demo shop's in-process authority); absent: items:issue is refused. */
  issuing?: IssuingPort;
  /** The demo card tray (browser host over simulated slots); absent: the tray is not available. */
  tray?: CardTray;
  /** Where exported documents go: downloaded by the page (default) or saved by the Electron app. */
  documents?: DocumentDelivery;
  /** The Electron shell's kiosk lock; absent where there is none (the browser host, the CLI). */
  kiosk?: KioskControl;
}

export interface KioskControl {
  active(): boolean;
  /** Resolves when the PIN is right and the window is being left; rejects with a TerminalError if not. */
  exit(pin: string): Promise<void>;
}

/** Who is calling: the screen (a browser tab's connection, the Electron window's page) and the approval. */
export interface CallContext {
  screen: string;
  /** The caller's ID for this operation: the transfer steps it journals carry it (card channels). */
  operationId?: string;
  /** Who ran the operation and who confirmed it, for the channels of the role table. */
  approval?: Approval;
}

export type Handlers = {
  [C in Channel]: (request: ValidRequestOf<C>, ctx: CallContext) => Promise<ResponseOf<C>>;
};

export function createHandlers(s: HandlerServices, opts: { now?: () => Date } = {}): Handlers {
  const now = opts.now ?? (() => new Date());
  const shop = createShopSupport(s);
  const handlers: Handlers = {
    'slots:status': async () => ({
      slots: s.slots.status(),
      money: {
        currencyCode: s.config.currencyCode,
        minorUnits: s.config.minorUnits,
        locale: s.config.locale,
      },
    }),
    // The balance is what the card granted at its access level: undefined stays undefined. What an
    // owner login opened is shown only to the screen that opened it.
    'cards:read': async ({ slot }, ctx) => maskViewForScreen(s, await s.engine.readCard(slot), ctx.screen),
    'session:login': async ({ slot, pin }, ctx) => {
      const view = await s.engine.login(slot, pin);
      s.ownerLogins.opened(slot, ctx.screen);
      return view;
    },
    'session:logout': async ({ slot }) => {
      await s.contents.logout(slot);
      s.ownerLogins.ended(slot);
      return { slot };
    },
    'session:authenticate': ({ payerMode, payeeMode }) => s.contents.authenticate({ payerMode, payeeMode }),
    'transfer:run': async ({ amount }, ctx) => {
      const outcome = await s.engine.transfer({ amount });
      if (outcome.status !== 'completed') return { ...outcome, error: errorInfo(outcome.error) };
      return {
        ...outcome,
        receipt: await shop.afterCustomerFlow(outcome.flowId, outcome.balances.payer, ctx),
      };
    },
    'keys:update': async () => ({ updates: await s.engine.updateKeys() }),
    // In worker threads: a full verify of a large log must not hold the main process (cards, screen).
    'log:verify': async () => s.journal.verifyParallel(),
    'indoubt:list': async () => {
      const view = s.recovery.inDoubt();
      return {
        items: view.transfers.map(inDoubtWire),
        deliveries: view.deliveries.map((d) => pendingDelivery.parse(d)),
        contents: view.contents.map((c) => openContentFlow.parse(c)),
      };
    },
    'recovery:run': () => s.recovery.run(),
    'crl:status': async () => s.crl.status(),
    'host:status': async () => hostStatus(s, now()),
    'crl:refresh': () => s.crl.refresh(),
    'contents:list': async ({ slot }, ctx) =>
      maskListingForScreen(s, await s.contents.listContents(slot), ctx.screen),
    'kiosk:status': async () => ({ active: s.kiosk?.active() ?? false }),
    'kiosk:exit': async ({ pin }) => {
      if (!s.kiosk?.active()) {
        throw new TerminalError(
          'E_INPUT_INVALID',
          'this terminal is not running as a kiosk: there is nothing to exit',
        );
      }
      await s.kiosk.exit(pin);
      return { exiting: true as const };
    },
    ...operatorHandlers(s),
    ...operationHandlers(s, shop),
    ...documentHandlers(s, shop),
    ...dayHandlers({ ...s, files: s.documents ?? pageDownload }),
    ...logHandlers(s),
  };
  // The role rule first (a refused call never waits for the cards), then the one card operation.
  return admitted(s, gateCardChannels(s.operations, handlers));
}

/** Every handler behind its access rule (channel-access.ts): refused calls run nothing. */
function admitted(s: HandlerServices, handlers: Handlers): Handlers {
  const out = {} as Record<Channel, (request: unknown, ctx: CallContext) => Promise<unknown>>;
  for (const channel of CHANNELS) {
    const handler = handlers[channel] as (request: unknown, ctx: CallContext) => Promise<unknown>;
    out[channel] = async (request, ctx) => {
      const approval = await admitCall(s.desk, channel, request as never);
      return handler(request, { ...ctx, approval });
    };
  }
  return out as Handlers;
}

/** Every channel that reads or changes the cards runs as the one card operation (CARD_ACCESS). */
function gateCardChannels(operations: HandlerServices['operations'], handlers: Handlers): Handlers {
  const gated = { ...handlers } as Record<Channel, (request: unknown, ctx: CallContext) => Promise<unknown>>;
  for (const channel of CHANNELS) {
    const access = CARD_ACCESS[channel];
    if (access === 'none') continue;
    const handler = gated[channel];
    gated[channel] = (request, ctx) =>
      operations.run({ channel, operationId: ctx.operationId, changes: access === 'changes' }, () =>
        handler(request, ctx),
      );
  }
  return gated as Handlers;
}

/**
 * Validates and runs one call from an untrusted caller. Never throws: an unknown channel or a payload
 * failing its schema is E_INPUT_INVALID with nothing run; a TerminalError keeps its code; anything
 * else is E_INTERNAL.
 */
export async function dispatch(
  handlers: Handlers,
  channel: unknown,
  payload: unknown,
  /**
   * Who calls: the screen (one per browser tab connection, one per Electron page; default 'local')
   * and the caller's operation ID, as the transport received them (checked here).
   */
  call: { screen?: string; operationId?: unknown } = {},
): Promise<Result<unknown>> {
  if (!isChannel(channel)) return invalidInput('unknown channel');
  const request = parseRequest(channel, payload);
  if (!request.ok) return request;
  const { operationId } = call;
  if (operationId !== undefined && typeof operationId !== 'string')
    return invalidInput(`${channel}: the operation ID must be a string`);
  try {
    const handler = handlers[channel] as (r: unknown, ctx: CallContext) => Promise<unknown>;
    return { ok: true, value: await handler(request.value, { screen: call.screen ?? 'local', operationId }) };
  } catch (e) {
    if (isTerminalError(e)) return { ok: false, error: errorInfo(e) };
    return { ok: false, error: { code: 'E_INTERNAL', message: 'an unexpected internal error', details: {} } };
  }
}

function hostStatus(s: HandlerServices, now: Date): HostStatusWire {
  const thisUpdate = s.crl.status().thisUpdate;
  const crlAgeSeconds =
    thisUpdate === undefined
      ? undefined
      : Math.max(0, Math.floor((now.getTime() - Date.parse(thisUpdate)) / 1000));
  if (!s.uploader) return { configured: false, waiting: 0, crlAgeSeconds };
  const u = s.uploader.status();
  const iso = (ms: number | null) => (ms === null ? undefined : new Date(ms).toISOString());
  return {
    configured: true,
    url: s.host?.url,
    lastUploadAt: iso(u.ackedAt),
    waiting: u.waiting,
    lastError: u.lastError ?? undefined,
    nextAttemptAt: iso(u.nextAttemptAt),
    crlAgeSeconds,
  };
}

/** An in-doubt item as the contract shows it: its schema keeps the fields it names, and drops the rest. */
function inDoubtWire(i: InDoubtItem): InDoubtItemWire {
  return inDoubtItem.parse(i);
}
