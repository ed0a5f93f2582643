// One real simulated card for the adversary's explorer and campaign: the real settlement applet on
// the real card OS and persistent store, with three things a test harness needs.
//
// - Its randoms are a function of its persistent memory (SHA-256 of a label, the holder ID, the image
//   and a counter within the command): the same card state always draws the same random, so two
//   command orders that commute reach the very same state, and a path replays byte for byte.
// - Its persistent memory can be set to any image between commands (the explorer jumps between
//   states): the image lands in the backend and the store re-reads it, as at power-up, while the
//   transient memory (the owner level) stays as the card holds it.
// - A tear plan cuts power at a chosen persistent write of the next command (before or after it).
//
// Images are plain JSON here (the card OS's codec validates each by the applet's schema on every
// commit; the explorer validates each new state once with that same codec instead, which is the
// same check at a fraction of the cost).
import { createHash } from 'node:crypto';
import { SettlementApplet as RealApplet } from '../../card-sim/applets/settlement/settlement-applet.js';
import type { SettlementState } from '../../card-sim/applets/settlement/state.js';
import type { Applet } from '../../card-sim/os/applet.js';
import { CardOS } from '../../card-sim/os/card-os.js';
import { MemoryBackend } from '../../card-sim/os/persistence-backend.js';
import { PersistentStore, type TearingDecision } from '../../card-sim/os/persistent-store.js';
import { SIMULATED_CARD_ATR } from '../../card-sim/settlement-card.js';
import { encodeCommandApdu, parseResponseApdu } from '../../protocol/apdu.js';
import { ascii } from '../../protocol/bytes.js';
import { CLA_ISO, INS, PIN_REFERENCE, SETTLEMENT_AID } from '../../protocol/settlement/commands.js';
import { SW } from '../../protocol/status-words.js';
import { BoundedCache } from './bounded-cache.js';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Images parsed once each (images recur: the explorer loads the same state many times), per generation. */
const parsed = new BoundedCache<string, SettlementState>(30_000);

/**
 * Plain JSON in, and out as one shared deep-frozen object per image (the schema check runs once
 * per explored state, in world-state.ts). The store never writes to the state it holds: a
 * transaction works on a copy (structuredClone of a frozen object is an ordinary one).
 */
const jsonCodec = {
  encode: (s: SettlementState) => JSON.stringify(s),
  decode: (image: string): SettlementState => {
    let state = parsed.get(image);
    if (state === undefined) {
      state = deepFreeze(JSON.parse(image) as SettlementState);
      parsed.set(image, state);
    }
    return state;
  },
};

/**
 * The card OS's persistent store, read without a copy: read() hands out the committed state itself
 * (the image in the backend, which the store's commits and reloads keep equal to it), deep-frozen,
 * where the store proper hands out a fresh deep copy (most of what a refused command costs). An
 * applet that wrote to what it read would throw, and the card answer 6F00, which the explorer counts
 * as a violation; drafts of transactions are copies as before.
 */
class FrozenReadStore extends PersistentStore<SettlementState> {
  constructor(private readonly memory: MemoryBackend) {
    super(memory, jsonCodec);
  }

  override read(): SettlementState {
    return jsonCodec.decode(this.memory.load()!);
  }
}

/** Makes the applet a card runs: the real one, or a deliberately broken wrapper (broken-cards.ts). */
export type AppletFactory = (
  store: PersistentStore<SettlementState>,
  random: (length: number) => Uint8Array,
) => Applet;

export const realApplet: AppletFactory = (store, random) => new RealApplet(store, random);

/** Where power is cut in the next command: at its `commit`-th persistent write (from 0). */
export interface TearPlan {
  commit: number;
  decision: Exclude<TearingDecision, 'proceed'>;
}

export interface CardAnswer {
  /** Empty when the card lost power mid-command (it never answers then). */
  raw: Uint8Array;
  sw: number | undefined;
  data: Uint8Array;
  torn: boolean;
  /** Persistent writes attempted (a cut one included). */
  commits: number;
  /** Persistent writes that reached memory. */
  landed: number;
}

export const SELECT_APDU = encodeCommandApdu({
  cla: CLA_ISO,
  ins: INS.SELECT,
  p1: 0x04,
  p2: 0,
  data: SETTLEMENT_AID,
});

export function verifyApdu(pin: string): Uint8Array {
  return encodeCommandApdu({ cla: CLA_ISO, ins: INS.VERIFY, p1: 0, p2: PIN_REFERENCE, data: ascii(pin) });
}

/** VERIFY without data: 9000 when the owner level is held, 63CX or 6983 otherwise; changes nothing. */
const VERIFY_PROBE = encodeCommandApdu({ cla: CLA_ISO, ins: INS.VERIFY, p1: 0, p2: PIN_REFERENCE });

export class ExplorerCard {
  readonly backend = new MemoryBackend();
  readonly store: PersistentStore<SettlementState>;
  readonly os: CardOS;
  private draws = 0;
  /** Whether the card's transient memory holds the owner level now. */
  private ownerLevel = false;
  /** The image the store last re-read (the store's memory is this image until the next commit). */
  private loaded: string | undefined;

  constructor(
    readonly holderId: string,
    /** An image of this card whose PIN is not blocked: where the owner level is (re)gained. */
    private readonly pinImage: string,
    private readonly pin: string,
    applet: AppletFactory = realApplet,
  ) {
    this.backend.store(pinImage);
    this.store = new FrozenReadStore(this.backend);
    const card = applet(this.store, (n) => this.random(n));
    this.os = new CardOS({ atr: SIMULATED_CARD_ATR, applets: [card], onPowerUp: () => this.store.reload() });
    this.powerCycle();
  }

  /**
   * This card's random: a function of its persistent memory, so a state always draws the same one.
   * (A test double for the card's CSPRNG: fresh per state, which is all the protocol asks of it.)
   */
  private random(length: number): Uint8Array {
    const digest = createHash('sha256')
      .update(`STLM-EXPLORER-RANDOM/${this.holderId}/${this.draws++}/`)
      .update(this.backend.load() ?? '')
      .digest();
    return new Uint8Array(digest.subarray(0, length));
  }

  get image(): string {
    return this.backend.load()!;
  }

  get holdsOwnerLevel(): boolean {
    return this.ownerLevel;
  }

  /** Puts the card in a state: persistent memory `image`, transient memory with or without the owner level. */
  load(image: string, ownerLevel: boolean): void {
    if (ownerLevel !== this.ownerLevel) {
      if (ownerLevel) this.gainOwnerLevel();
      else this.powerCycle();
    }
    // Memory already holds this image (the last command was refused): nothing to re-read.
    if (this.backend.load() === image && this.loaded === image) return;
    this.backend.store(image);
    this.store.reload();
    this.loaded = image;
  }

  /** Sends one APDU (after a cut, the card is powered up and selected again: no owner level). */
  transmit(apdu: Uint8Array, tear?: TearPlan): CardAnswer {
    const first = this.store.commitCount;
    if (tear) {
      const at = first + tear.commit;
      this.store.tearing = (i) => (i === at ? tear.decision : 'proceed');
    }
    this.draws = 0;
    let raw: Uint8Array;
    try {
      raw = this.os.transmit(apdu.slice());
    } finally {
      this.store.tearing = undefined;
    }
    const commits = this.store.commitCount - first;
    if (commits > 0) this.loaded = undefined;
    const torn = raw.length === 0;
    const landed = torn && tear?.decision === 'cut-before-write' ? commits - 1 : commits;
    if (torn) this.powerCycle();
    else if (apdu[0] === CLA_ISO && apdu[1] === INS.VERIFY) this.ownerLevel = this.probeOwnerLevel();
    const answer = torn ? undefined : parseResponseApdu(raw);
    return { raw, sw: answer?.sw, data: answer?.data ?? new Uint8Array(0), torn, commits, landed };
  }

  /** Power off and on, then SELECT: transient memory (the owner level) is gone. */
  powerCycle(): void {
    this.loaded = undefined;
    this.os.powerDown();
    this.os.powerUp();
    const sw = this.swOf(this.os.transmit(SELECT_APDU));
    if (sw !== SW.OK) throw new Error(`SELECT answered ${sw.toString(16)}`);
    this.ownerLevel = false;
  }

  private gainOwnerLevel(): void {
    this.loaded = undefined;
    this.backend.store(this.pinImage);
    this.store.reload();
    const sw = this.swOf(this.os.transmit(verifyApdu(this.pin)));
    if (sw !== SW.OK) throw new Error(`VERIFY on the PIN image answered ${sw.toString(16)}`);
    this.ownerLevel = true;
  }

  private probeOwnerLevel(): boolean {
    return this.swOf(this.os.transmit(VERIFY_PROBE)) === SW.OK;
  }

  private swOf(raw: Uint8Array): number {
    return parseResponseApdu(raw).sw;
  }
}
