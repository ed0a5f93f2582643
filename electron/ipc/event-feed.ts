// The contract's events from the terminal services: card inserted and removed (with the slot's status),
// each journaled step of a flow, and start-up or on-insert recoveries. Both transports push what this
// feeds them: the browser host over its WebSocket, the Electron shell over webContents.send.
import type { RecoveryEvent } from '../services/recovery/terminal-recovery.js';
import type { EngineEvent } from '../services/settlement/settlement-engine.js';
import type { ReaderSlots, SlotEvent } from '../services/slots/reader-slots.js';
import type { EventName, EventOf } from './contract.js';

export interface EventSources {
  engine: { on(listener: (e: EngineEvent) => void): () => void };
  slots: Pick<ReaderSlots, 'on' | 'status'>;
  /** The recovery surface's passes (the terminal services' `recovery`; test doubles may have none). */
  recovery?: { on?(listener: (e: RecoveryEvent) => void): () => void };
}

export type EventPush = <E extends EventName>(event: E, payload: EventOf<E>) => void;

/** Subscribes to the services and pushes contract events; returns the unsubscribe. */
export function feedContractEvents(s: EventSources, push: EventPush): () => void {
  const slotEvent = (e: SlotEvent) => {
    if (e.type !== 'card-inserted' && e.type !== 'card-removed') return;
    const status = s.slots.status().find((x) => x.slot === e.slot);
    if (status) push(e.type, status);
  };
  const engineEvent = (e: EngineEvent) => {
    if (e.type === 'recovered') return push('recovered', e.report);
    const { flowId, flowKind: kind, step, payload } = e.event;
    push('transfer-step', {
      flowId,
      kind,
      step,
      route: typeof payload.route === 'string' ? payload.route : undefined,
    });
  };
  const recoveryEvent = (e: RecoveryEvent) => {
    if (e.type !== 'run') return;
    const { adopted, transfers, contents } = e.run;
    push('recovery-run', {
      trigger: e.trigger,
      adopted,
      transfers: transfers.length,
      contents: contents.length,
    });
  };
  const unsubscribe = [
    s.slots.on(slotEvent),
    s.engine.on(engineEvent),
    ...(s.recovery?.on ? [s.recovery.on(recoveryEvent)] : []),
  ];
  return () => {
    for (const u of unsubscribe) u();
  };
}
