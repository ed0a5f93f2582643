// What crosses the Electron preload bridge: the contract's channel and event names as plain strings,
// the Electron IPC channel each event travels on, and the shape of `window.terminal`.
//
// Why the names are written out here instead of read from the contract: the preload runs sandboxed,
// where it can require only 'electron' (and a few Node built-ins), so its bundle must not carry zod or
// anything the contract imports. This file is the preload's only import besides 'electron'; it imports
// the contract for types alone (erased at build time), and the two checks below make a channel or event
// added to the contract and not listed here (or listed here and not there) a type error.
import type { CallMeta, Channel, EventName, EventOf, RequestOf, ResponseOf, Result } from './contract.js';

export const CHANNEL_NAMES = [
  'slots:status',
  'cards:read',
  'session:login',
  'session:authenticate',
  'session:logout',
  'transfer:run',
  'keys:update',
  'log:page',
  'log:verify',
  'indoubt:list',
  'recovery:run',
  'crl:status',
  'crl:refresh',
  'terminal:info',
  'day:report',
  'day:export',
  'host:status',
  'contents:list',
  'kiosk:status',
  'kiosk:exit',
  'operator:status',
  'operator:sign-in',
  'operator:sign-out',
  'operator:lock',
  'operator:activity',
  'items:issue',
  'items:sell',
  'items:send',
  'items:alter',
  'refund:check',
  'refund:run',
  'pin:unblock',
  'receipts:get',
  'receipts:export',
  'tray:status',
  'tray:move',
] as const satisfies readonly Channel[];

export const EVENT_NAMES = [
  'card-inserted',
  'card-removed',
  'transfer-step',
  'card-operation',
  'recovered',
  'recovery-run',
  'kiosk-exit-requested',
  'operator',
  'owner-logout',
] as const satisfies readonly EventName[];

/** Compiles only when T is never: here, when no contract name is missing from the lists above. */
type Never<T extends never> = T;
export type UnlistedChannels = Never<Exclude<Channel, (typeof CHANNEL_NAMES)[number]>>;
export type UnlistedEvents = Never<Exclude<EventName, (typeof EVENT_NAMES)[number]>>;

/** The Electron IPC channel an event is sent on (requests use the contract's channel names). */
export function eventChannel(event: EventName): string {
  return `terminal-event:${event}`;
}

/**
 * `window.terminal` in the Electron renderer: one function per contract channel (the payload is checked
 * by the main process, which answers a Result), and a subscription per contract event.
 */
export interface TerminalBridge {
  readonly invoke: {
    readonly [C in Channel]: (payload: RequestOf<C>, meta?: CallMeta) => Promise<Result<ResponseOf<C>>>;
  };
  on<E extends EventName>(event: E, listener: (payload: EventOf<E>) => void): () => void;
}
