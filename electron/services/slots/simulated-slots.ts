// In-process reader slots: the payer and payee slots hold VirtualCard objects directly, with no
// reader, daemon or socket in between. The default backend of the app when no reader is configured,
// and the one unit tests use.
//
// The channels behave like PcscChannel, so code tested here behaves the same over PC/SC:
// - one session per slot; connect() to an empty slot rejects E_CARD_ABSENT, a second connect() while
//   a channel is open E_TRANSPORT;
// - transmits are queued, one APDU at a time, each bounded by the waiting time (or opts.timeoutMs):
//   no answer in time rejects E_TRANSPORT_TIMEOUT and the channel is then unusable (E_TRANSPORT);
// - the card pulled during a session: the pending and every later transmit reject E_CARD_ABSENT;
// - an empty answer (the card lost power mid-command) rejects E_TRANSPORT; the card stays in the slot
//   and the next connect() powers it up again.
//
// Fault injection per slot, for the communication monitor's tests (all deterministic: the decision is
// taken when a transmit starts, and a command that times out before reaching the card never reaches it):
// - setLatency(slot, ms): the card is called `ms` after the transmit starts; if that is not before
//   the timeout the card is not called at all;
// - stall(slot): the card is never called (a mute card);
// - stallAfterCard(slot): the card executes the command but its answer is lost (it committed; the
//   terminal times out);
// - clearFaults(slot) ends them. stall and stallAfterCard take an optional `when` filter on the APDU.

import { toHex } from '../../../protocol/bytes.js';
import { type CardChannel, type TransmitOptions, transmitRefusal } from '../../../protocol/card-channel.js';
import { errorMessage, TerminalError } from '../../../protocol/errors.js';
import type { VirtualCard } from '../../../protocol/virtual-card.js';
import {
  type ReaderSlots,
  SLOT_NAMES,
  type SlotEvent,
  type SlotName,
  type SlotStatus,
} from './reader-slots.js';

export interface SimulatedSlotsOptions {
  /** The communication monitor's waiting time: the default timeout of every transmit. */
  waitingTimeMs: number;
  /** Reader names shown in status and events; default "Simulated reader (payer)" and so on. */
  readerNames?: Partial<Record<SlotName, string>>;
  /** Whether the simulated readers carry extended-length APDUs (default true); false: short APDUs only. */
  extendedLength?: boolean;
}

export interface FaultOptions {
  /** Only APDUs for which this returns true are affected; default every APDU. */
  when?: (apdu: Uint8Array) => boolean;
}

export interface SimulatedSlots extends ReaderSlots {
  /** Puts a card into the slot (E_INPUT_INVALID if the slot already holds one); emits card-inserted. */
  insert(slot: SlotName, card: VirtualCard): void;
  /** Pulls the card (a no-op for an empty slot): it loses power; emits card-removed. */
  remove(slot: SlotName): void;
  /** The card in the slot, if any. */
  card(slot: SlotName): VirtualCard | undefined;
  /** Delays every command to the card in `slot` by `ms` (0 for none). */
  setLatency(slot: SlotName, ms: number): void;
  /** The card in `slot` stops answering: commands never reach it and time out. */
  stall(slot: SlotName, opts?: FaultOptions): void;
  /** The card in `slot` executes commands but the answers are lost: they time out after the card acted. */
  stallAfterCard(slot: SlotName, opts?: FaultOptions): void;
  /** Ends latency and stalls on `slot`. */
  clearFaults(slot: SlotName): void;
}

type Fault = { kind: 'stall' | 'stall-after-card'; when: ((apdu: Uint8Array) => boolean) | undefined };

interface SlotState {
  readonly slot: SlotName;
  readonly reader: string;
  card: VirtualCard | undefined;
  channel: SimulatedChannel | undefined;
  latencyMs: number;
  fault: Fault | undefined;
}

export function createSimulatedSlots(options: SimulatedSlotsOptions): SimulatedSlots {
  const waitingTimeMs = options.waitingTimeMs;
  if (!Number.isFinite(waitingTimeMs) || waitingTimeMs <= 0) {
    throw new TerminalError(
      'E_INPUT_INVALID',
      `waitingTimeMs must be a positive number, not ${waitingTimeMs}`,
    );
  }
  const states = new Map<SlotName, SlotState>(
    SLOT_NAMES.map((slot) => [
      slot,
      {
        slot,
        reader: options.readerNames?.[slot] ?? `Simulated reader (${slot})`,
        card: undefined,
        channel: undefined,
        latencyMs: 0,
        fault: undefined,
      },
    ]),
  );
  const listeners = new Set<(event: SlotEvent) => void>();
  let closed = false;

  const stateOf = (slot: SlotName): SlotState => {
    const state = states.get(slot);
    if (!state) throw new TerminalError('E_INPUT_INVALID', `no such slot: ${String(slot)}`, { slot });
    return state;
  };
  const emit = (event: SlotEvent) => {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch {
        // a listener's failure is its own business
      }
    }
  };
  const setFault = (slot: SlotName, kind: Fault['kind'], opts: FaultOptions = {}) => {
    stateOf(slot).fault = { kind, when: opts.when };
  };

  return {
    status(): SlotStatus[] {
      return SLOT_NAMES.map((slot) => {
        const { reader, card } = stateOf(slot);
        return {
          slot,
          reader,
          readerPresent: true,
          cardPresent: card !== undefined,
          atr: card ? toHex(card.atr) : undefined,
        };
      });
    },

    on(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    async connect(slot) {
      const state = stateOf(slot);
      if (closed) throw new TerminalError('E_TRANSPORT', 'the reader slots are closed', { slot });
      const card = state.card;
      if (!card) {
        throw new TerminalError('E_CARD_ABSENT', `no card in the ${slot} slot`, {
          slot,
          reader: state.reader,
        });
      }
      if (state.channel) {
        throw new TerminalError('E_TRANSPORT', `a channel to the ${slot} slot is already open`, {
          slot,
          reader: state.reader,
        });
      }
      card.powerUp();
      const channel = new SimulatedChannel(state, card, waitingTimeMs, options.extendedLength ?? true);
      state.channel = channel;
      return channel;
    },

    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      await Promise.all([...states.values()].map((s) => s.channel?.close()));
    },

    insert(slot, card) {
      const state = stateOf(slot);
      if (state.card) {
        throw new TerminalError('E_INPUT_INVALID', `the ${slot} slot already holds a card`, { slot });
      }
      state.card = card;
      emit({ type: 'card-inserted', slot, reader: state.reader, atr: toHex(card.atr) });
    },

    remove(slot) {
      const state = stateOf(slot);
      const card = state.card;
      if (!card) return;
      state.card = undefined;
      state.channel?.cardGone();
      // The pulled card's channel is dead: a card put back (at once, even) is a new session, whether
      // or not its holder has closed the old channel yet.
      state.channel = undefined;
      card.powerDown();
      emit({ type: 'card-removed', slot, reader: state.reader });
    },

    card: (slot) => stateOf(slot).card,

    setLatency(slot, ms) {
      if (!Number.isFinite(ms) || ms < 0) {
        throw new TerminalError('E_INPUT_INVALID', `latency must be a non-negative number, not ${ms}`);
      }
      stateOf(slot).latencyMs = ms;
    },
    stall: (slot, opts) => setFault(slot, 'stall', opts),
    stallAfterCard: (slot, opts) => setFault(slot, 'stall-after-card', opts),
    clearFaults(slot) {
      const state = stateOf(slot);
      state.latencyMs = 0;
      state.fault = undefined;
    },
  };
}

/** One session with the card in a simulated slot. Transmits are queued: one APDU at a time. */
class SimulatedChannel implements CardChannel {
  readonly atr: Uint8Array;
  readonly extendedLength: boolean;
  private queue: Promise<unknown> = Promise.resolve();
  private brokenBy: TerminalError | undefined;
  private closed = false;
  /** Settles the transmit in progress early (card pulled). */
  private abortPending: ((error: TerminalError) => void) | undefined;

  constructor(
    private readonly state: SlotState,
    private readonly card: VirtualCard,
    private readonly waitingTimeMs: number,
    extendedLength: boolean,
  ) {
    this.atr = card.atr.slice();
    this.extendedLength = extendedLength;
  }

  /** Why the channel can no longer be used, if it cannot. */
  get broken(): TerminalError | undefined {
    return this.brokenBy;
  }

  transmit(apdu: Uint8Array, opts: TransmitOptions = {}): Promise<Uint8Array> {
    const timeoutMs = opts.timeoutMs ?? this.waitingTimeMs;
    const run = this.queue.then(() => this.transmitNow(apdu, timeoutMs));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The card was pulled: the pending transmit and every later one fail with E_CARD_ABSENT. */
  cardGone(): void {
    const error = new TerminalError(
      'E_CARD_ABSENT',
      `card removed from the ${this.state.slot} slot`,
      this.context(),
    );
    this.markBroken(error);
    this.abortPending?.(error);
  }

  /** Ends the session once the transmit in progress has settled; the card, if still in the slot, powers down. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    if (this.state.channel === this) this.state.channel = undefined;
    if (this.state.card === this.card) this.card.powerDown();
  }

  private context(): Record<string, unknown> {
    return { slot: this.state.slot, reader: this.state.reader };
  }

  private markBroken(error: TerminalError): void {
    this.brokenBy ??= error;
  }

  private transmitNow(apdu: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const context = this.context();
    const refusal = transmitRefusal({ closed: this.closed, brokenBy: this.brokenBy }, apdu, context);
    if (refusal) return Promise.reject(refusal);
    const { latencyMs, fault } = this.state;
    const faultKind =
      fault && (fault.when === undefined || fault.when(apdu.slice())) ? fault.kind : undefined;
    const command = apdu.slice(); // the caller may reuse its buffer while the command is "on the wire"

    return new Promise<Uint8Array>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.abortPending = undefined;
        outcome();
      };
      const fail = (error: TerminalError) =>
        settle(() => {
          this.markBroken(error);
          reject(error);
        });
      const timeOut = () =>
        fail(
          new TerminalError(
            'E_TRANSPORT_TIMEOUT',
            `no response from the card in the ${this.state.slot} slot within ${timeoutMs} ms`,
            { ...context, timeoutMs },
          ),
        );
      this.abortPending = fail;

      if (faultKind === 'stall' || latencyMs >= timeoutMs) {
        timer = setTimeout(timeOut, timeoutMs); // the command never reaches the card
        return;
      }
      const deliver = () => {
        let response: Uint8Array;
        try {
          response = this.card.transmit(command).slice();
        } catch (e) {
          // VirtualCard.transmit must not throw; a card OS bug is an internal error, not a card answer.
          fail(new TerminalError('E_INTERNAL', `the simulated card threw: ${errorMessage(e)}`, context));
          return;
        }
        if (faultKind === 'stall-after-card') {
          timer = setTimeout(timeOut, timeoutMs - latencyMs); // the card acted; its answer is lost
        } else if (response.length === 0) {
          fail(new TerminalError('E_TRANSPORT', 'the card did not answer (power lost)', context));
        } else if (response.length < 2) {
          fail(
            new TerminalError('E_TRANSPORT', 'response shorter than a status word', {
              ...context,
              length: response.length,
            }),
          );
        } else {
          settle(() => resolve(response));
        }
      };
      if (latencyMs > 0) timer = setTimeout(deliver, latencyMs);
      else deliver();
    });
  }
}
