// A VirtualCard wrapped in a latency model. It passes every call through unchanged (same answers,
// byte for byte), counts the work of each command (card-sim/os/card-work.ts) and records each APDU
// and each power-up into a ledger (latency-model.ts). In 'virtual' mode that is all: the benchmark
// reads modelled time from the ledger and the run goes at the simulator's speed. In 'real-time' mode
// the card also asks its transport (answerDelayMs) to hold each answer back until the modelled time of
// that APDU has passed, so a terminal over pcscd feels a real card's pace.

import type { VirtualCard } from '../../protocol/virtual-card.js';
import { CardWorkMeter } from '../os/card-work.js';
import type { PersistentStore } from '../os/persistent-store.js';
import {
  type ApduRecord,
  type ApduTiming,
  apduTiming,
  LatencyLedger,
  type LatencyModel,
} from './latency-model.js';

export type LatencyMode = 'virtual' | 'real-time';

export interface LatencyCardOptions<State> {
  /** The card's persistent memory, whose commits count as writes (without it, no writes are counted). */
  store?: PersistentStore<State>;
  model: LatencyModel;
  mode?: LatencyMode;
  /** Where records go; share one between the cards of a run. Default: a ledger of this card's own. */
  ledger?: LatencyLedger;
  /** The card's name in records, e.g. "payer". */
  label?: string;
  /** A clock for the simulator's own time (real-time mode subtracts it); default performance.now. */
  now?: () => number;
}

export class LatencyCard<State = unknown> implements VirtualCard {
  readonly ledger: LatencyLedger;
  readonly model: LatencyModel;
  readonly mode: LatencyMode;
  readonly label: string;
  private readonly meter = new CardWorkMeter();
  private readonly now: () => number;
  private delayMs = 0;
  private last: { record: ApduRecord; timing: ApduTiming } | undefined;

  constructor(
    private readonly inner: VirtualCard,
    o: LatencyCardOptions<State>,
  ) {
    this.model = o.model;
    this.mode = o.mode ?? 'virtual';
    this.ledger = o.ledger ?? new LatencyLedger();
    this.label = o.label ?? 'card';
    this.now = o.now ?? (() => performance.now());
    if (o.store) this.meter.watch(o.store);
  }

  get atr(): Uint8Array {
    return this.inner.atr;
  }

  /** The last APDU answered and its modelled time under this card's model. */
  get lastApdu(): { record: ApduRecord; timing: ApduTiming } | undefined {
    return this.last;
  }

  powerUp(): void {
    this.inner.powerUp();
    this.ledger.push({ kind: 'activation', card: this.label, atr: this.inner.atr.slice() });
  }

  powerDown(): void {
    this.delayMs = 0;
    this.inner.powerDown();
  }

  reset(): void {
    this.inner.reset();
    this.ledger.push({ kind: 'activation', card: this.label, atr: this.inner.atr.slice() });
  }

  transmit(apdu: Uint8Array): Uint8Array {
    const started = this.now();
    const { result: response, work } = this.meter.measure(() => this.inner.transmit(apdu));
    const ownMs = this.now() - started;
    const record: ApduRecord = {
      kind: 'apdu',
      card: this.label,
      cla: apdu[0] ?? 0,
      ins: apdu[1] ?? 0,
      commandBytes: apdu.length,
      responseBytes: response.length,
      sw:
        response.length >= 2
          ? (response[response.length - 2]! << 8) | response[response.length - 1]!
          : undefined,
      work,
    };
    this.ledger.push(record);
    const timing = apduTiming(record, this.model);
    this.last = { record, timing };
    // A mute card (power lost) sends nothing to wait for.
    this.delayMs = this.mode === 'real-time' && response.length > 0 ? Math.max(0, timing.totalMs - ownMs) : 0;
    return response;
  }

  answerDelayMs(): number {
    return this.delayMs;
  }
}
