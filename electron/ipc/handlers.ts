// The main-process side of the operator contract: one handler per channel, taking the validated
// request, plus dispatch(), the single place where untrusted input is checked and thrown errors
// become error results. Transports (the browser host, the Electron IPC) only move frames.
import type { Flows } from '../../db/flows.js';
import type { Journal } from '../../db/journal.js';
import { isTerminalError, TerminalError } from '../../protocol/errors.js';
import type { TerminalConfig } from '../services/config.js';
import type { ContentEngine } from '../services/contents/content-engine.js';
import type { CrlCache } from '../services/crl/crl-cache.js';
import type { JournalUploader } from '../services/host-link/journal-uploader.js';
import type { TerminalRecovery } from '../services/recovery/terminal-recovery.js';
import type { InDoubtItem, SettlementEngine } from '../services/settlement/settlement-engine.js';
import { TRANSFER_STEP } from '../services/settlement/transfer-record.js';
import type { ReaderSlots } from '../services/slots/reader-slots.js';
import {
  type Channel,
  type ErrorInfo,
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
  type SettlementSummaryWire,
  type ValidRequestOf,
} from './contract.js';

/** What the handlers use of the terminal services (startTerminalServices() returns a superset). */
export interface HandlerServices {
  engine: Pick<SettlementEngine, 'readCard' | 'login' | 'transfer' | 'updateKeys' | 'inDoubt'>;
  contents: Pick<ContentEngine, 'listContents' | 'logout' | 'authenticate'>;
  /** The terminal's one recovery surface: a pass on demand, and what is still open. */
  recovery: Pick<TerminalRecovery, 'run' | 'inDoubt'> & Partial<Pick<TerminalRecovery, 'on'>>;
  journal: Pick<Journal, 'page' | 'verify' | 'entriesForFlow'>;
  flows: Pick<Flows, 'closedOn'>;
  crl: Pick<CrlCache, 'status' | 'refresh'>;
  /** The journal's upload to the issuer host; absent without a host. */
  uploader?: Pick<JournalUploader, 'status'> | undefined;
  host?: { url: string } | undefined;
  slots: Pick<ReaderSlots, 'status'>;
  config: Pick<TerminalConfig, 'currencyCode' | 'minorUnits' | 'locale'>;
  /** The Electron shell's kiosk lock; absent where there is none (the browser host, the CLI). */
  kiosk?: KioskControl;
}

export interface KioskControl {
  active(): boolean;
  /** Resolves when the PIN is right and the window is being left; rejects with a TerminalError if not. */
  exit(pin: string): Promise<void>;
}

export type Handlers = { [C in Channel]: (request: ValidRequestOf<C>) => Promise<ResponseOf<C>> };

export function createHandlers(s: HandlerServices, opts: { now?: () => Date } = {}): Handlers {
  const now = opts.now ?? (() => new Date());
  return {
    'slots:status': async () => ({
      slots: s.slots.status(),
      money: {
        currencyCode: s.config.currencyCode,
        minorUnits: s.config.minorUnits,
        locale: s.config.locale,
      },
    }),
    // The balance is what the card granted at its access level: undefined stays undefined.
    'cards:read': ({ slot }) => s.engine.readCard(slot),
    'session:login': ({ slot, pin }) => s.engine.login(slot, pin),
    'session:logout': async ({ slot }) => {
      await s.contents.logout(slot);
      return { slot };
    },
    'session:authenticate': ({ payerMode, payeeMode }) => s.contents.authenticate({ payerMode, payeeMode }),
    'transfer:run': async ({ amount }) => {
      const outcome = await s.engine.transfer({ amount });
      if (outcome.status === 'completed') return outcome;
      return { ...outcome, error: errorInfo(outcome.error) };
    },
    'keys:update': async () => ({ updates: await s.engine.updateKeys() }),
    'log:page': async (q) => {
      const page = s.journal.page({ limit: q.limit, beforeSeq: q.beforeSeq, search: q.search });
      return { records: page.records, nextBeforeSeq: page.nextBeforeSeq };
    },
    'log:verify': async () => s.journal.verify(),
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
    'settlement:summary': async ({ day }) => settlementSummary(s, day ?? now().toISOString().slice(0, 10)),
    'contents:list': ({ slot }) => s.contents.listContents(slot),
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
  };
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
): Promise<Result<unknown>> {
  if (!isChannel(channel)) return invalidInput('unknown channel');
  const request = parseRequest(channel, payload);
  if (!request.ok) return request;
  try {
    const handler = handlers[channel] as (r: unknown) => Promise<unknown>;
    return { ok: true, value: await handler(request.value) };
  } catch (e) {
    if (isTerminalError(e)) return { ok: false, error: errorInfo(e) };
    return { ok: false, error: { code: 'E_INTERNAL', message: 'an unexpected internal error', details: {} } };
  }
}

function hostStatus(s: HandlerServices, now: Date): HostStatusWire {
  const thisUpdate = s.crl.status().thisUpdate;
  const crlAge =
    thisUpdate === undefined
      ? {}
      : { crlAgeSeconds: Math.max(0, Math.floor((now.getTime() - Date.parse(thisUpdate)) / 1000)) };
  if (!s.uploader) return { configured: false, waiting: 0, ...crlAge };
  const u = s.uploader.status();
  const iso = (ms: number | null) => (ms === null ? undefined : new Date(ms).toISOString());
  return {
    configured: true,
    ...(s.host ? { url: s.host.url } : {}),
    ...(u.ackedAt !== null ? { lastUploadAt: iso(u.ackedAt) } : {}),
    waiting: u.waiting,
    ...(u.lastError ? { lastError: u.lastError } : {}),
    ...(u.nextAttemptAt !== null ? { nextAttemptAt: iso(u.nextAttemptAt) } : {}),
    ...crlAge,
  };
}

function errorInfo(e: TerminalError): ErrorInfo {
  return { code: e.code, message: e.message, details: jsonSafe(e.details) };
}

/** Details cross a JSON transport: bigints become decimal strings, anything unserializable is dropped. */
function jsonSafe(details: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(details, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
  } catch {
    return {};
  }
}

/** An in-doubt item as the contract shows it: its schema keeps the fields it names, and drops the rest. */
function inDoubtWire(i: InDoubtItem): InDoubtItemWire {
  return inDoubtItem.parse(i);
}

/** End of day, from the journal alone: completed value transfers of the UTC day, per direction. */
export function settlementSummary(s: HandlerServices, day: string): SettlementSummaryWire {
  const directions = new Map<string, { payerId: string; payeeId: string; count: number; total: number }>();
  let notCompleted = 0;
  // The flows' facts (db/flow-facts.ts) hold the amount and the two cards: no entry is read.
  for (const flow of s.flows.closedOn('value-transfer', day)) {
    if (flow.lastStep !== TRANSFER_STEP.COMPLETED) {
      notCompleted += 1;
      continue;
    }
    const [payerId = '', payeeId = ''] = flow.cards.map((c) => c.holderId);
    const key = `${payerId}>${payeeId}`;
    const d = directions.get(key) ?? { payerId, payeeId, count: 0, total: 0 };
    d.count += 1;
    d.total += flow.amount ?? 0;
    directions.set(key, d);
  }
  const list = [...directions.values()];
  return {
    day,
    directions: list,
    count: list.reduce((n, d) => n + d.count, 0),
    total: list.reduce((n, d) => n + d.total, 0),
    notCompleted,
    inDoubt: s.engine.inDoubt().map(inDoubtWire),
  };
}
