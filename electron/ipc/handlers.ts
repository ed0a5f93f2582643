// The main-process side of the operator contract: one handler per channel, taking the validated
// request, plus dispatch(), the single place where untrusted input is checked and thrown errors
// become error results. Transports (the browser host, the Electron IPC) only move frames.
import type { Journal } from '../../db/journal.js';
import { isTerminalError, TerminalError } from '../../protocol/errors.js';
import type { CardOperations } from '../services/card-operations.js';
import type { TerminalConfig } from '../services/config.js';
import type { ContentEngine } from '../services/contents/content-engine.js';
import type { CrlCache } from '../services/crl/crl-cache.js';
import type { InDoubtItem, SettlementEngine } from '../services/settlement/settlement-engine.js';
import type { ReaderSlots } from '../services/slots/reader-slots.js';
import {
  CARD_ACCESS,
  type CallMeta,
  CHANNELS,
  type Channel,
  type ErrorInfo,
  type InDoubtItemWire,
  inDoubtItem,
  invalidInput,
  isChannel,
  parseRequest,
  type ResponseOf,
  type Result,
  type ValidRequestOf,
} from './contract.js';
import { type FileDelivery, pageDownload } from './file-delivery.js';
import { type DayServices, dayHandlers } from './handlers-day.js';
import { type LogServices, logHandlers } from './handlers-log.js';

/** What the handlers use of the terminal services (startTerminalServices() returns a superset). */
export interface HandlerServices {
  engine: Pick<SettlementEngine, 'readCard' | 'login' | 'transfer' | 'updateKeys' | 'recover' | 'inDoubt'>;
  contents: Pick<ContentEngine, 'listContents' | 'recover' | 'logout' | 'authenticate'>;
  journal: Pick<Journal, 'verify'>;
  crl: Pick<CrlCache, 'status' | 'refresh'>;
  slots: Pick<ReaderSlots, 'status'>;
  config: Pick<TerminalConfig, 'currencyCode' | 'minorUnits' | 'locale' | 'shop' | 'operators'>;
  /** One card operation at a time for the whole main process (every window and connection). */
  operations: Pick<CardOperations, 'run'>;
  reports: DayServices['reports'] & LogServices['reports'];
  /** Where exported files go: a save dialog in Electron; by default back to the page to download. */
  files?: FileDelivery;
  /** The Electron shell's kiosk lock; absent where there is none (the browser host, the CLI). */
  kiosk?: KioskControl;
}

export interface KioskControl {
  active(): boolean;
  /** Resolves when the PIN is right and the window is being left; rejects with a TerminalError if not. */
  exit(pin: string): Promise<void>;
}

export type Handlers = {
  [C in Channel]: (request: ValidRequestOf<C>, meta: CallMeta) => Promise<ResponseOf<C>>;
};

export function createHandlers(s: HandlerServices): Handlers {
  return gateCardChannels(s.operations, {
    ...channelHandlers(s),
    ...dayHandlers({ ...s, files: s.files ?? pageDownload }),
    ...logHandlers(s),
  });
}

/** Every channel that reads or changes the cards runs as the one card operation (CARD_ACCESS). */
function gateCardChannels(operations: HandlerServices['operations'], handlers: Handlers): Handlers {
  const gated = { ...handlers } as Record<Channel, (request: unknown, meta: CallMeta) => Promise<unknown>>;
  for (const channel of CHANNELS) {
    const access = CARD_ACCESS[channel];
    if (access === 'none') continue;
    const handler = gated[channel];
    gated[channel] = (request, meta) =>
      operations.run({ channel, operationId: meta.operationId, changes: access === 'changes' }, () =>
        handler(request, meta),
      );
  }
  return gated as Handlers;
}

function channelHandlers(
  s: HandlerServices,
): Omit<Handlers, 'terminal:info' | 'day:report' | 'day:export' | 'log:page'> {
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
    'log:verify': async () => s.journal.verify(),
    'indoubt:list': async () => ({ items: s.engine.inDoubt().map(inDoubtWire) }),
    'recovery:run': async () => {
      const transfers = await s.engine.recover();
      const contents = await s.contents.recover();
      return { transfers, contents };
    },
    'crl:status': async () => s.crl.status(),
    'crl:refresh': () => s.crl.refresh(),
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
  meta?: unknown,
): Promise<Result<unknown>> {
  if (!isChannel(channel)) return invalidInput('unknown channel');
  const request = parseRequest(channel, payload);
  if (!request.ok) return request;
  const operationId = (meta as { operationId?: unknown } | undefined)?.operationId;
  if (operationId !== undefined && typeof operationId !== 'string')
    return invalidInput(`${channel}: the operation ID must be a string`);
  try {
    const handler = handlers[channel] as (r: unknown, m: CallMeta) => Promise<unknown>;
    return { ok: true, value: await handler(request.value, { operationId }) };
  } catch (e) {
    if (isTerminalError(e)) return { ok: false, error: errorInfo(e) };
    return { ok: false, error: { code: 'E_INTERNAL', message: 'an unexpected internal error', details: {} } };
  }
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
