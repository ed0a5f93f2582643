// A hostile card (issue 6, "hostile input"): a real settlement card behind a proxy that, on the
// commands a test arms it for, lies to the terminal. It answers malformed data (garbage, a corrupted
// byte, a broken TLV length, one byte short or long, nothing), oversized data (more than any Le), an
// endless 61XX chain, no status word at all, an earlier answer replayed (say the reception challenge
// of the previous transfer), a refusal after it has in fact executed the command, or a refusal or
// a bare 9000 without executing it.
//
// Honest or not, the proxy assembles each answer itself (following the inner card's 61XX chain)
// and serves it by the terminal's Ne with its own 61XX/GET RESPONSE, so a lie can cover the whole
// answer of a chained command such as GET CARD INFO. Unarmed it behaves exactly like the card.
//
// Slowness is not here: a card that answers after the reader's waiting time is, for the terminal,
// a reader timeout. Tests make it with the reader slots' own faults (a command that never reaches
// the card, or whose answer is lost after the card acted), filtered on the same command.
import {
  type CommandApdu,
  encodeCommandApdu,
  encodeResponseApdu,
  parseCommandApdu,
} from '../../protocol/apdu.js';
import { concat } from '../../protocol/bytes.js';
import { SW } from '../../protocol/status-words.js';
import type { VirtualCard } from '../../protocol/virtual-card.js';

export const MISBEHAVIOURS = [
  'garbage',
  'corrupt',
  'bad-tlv',
  'short',
  'long',
  'empty',
  'oversized',
  'endless-chain',
  'no-status-word',
  'replay',
  'lie-refused',
  'refuse',
  'fake-ok',
] as const;
export type Misbehaviour = (typeof MISBEHAVIOURS)[number];

/** What the command still does on the card under each misbehaviour. */
export const EXECUTES: Record<Misbehaviour, boolean> = {
  garbage: true,
  corrupt: true,
  'bad-tlv': true,
  short: true,
  long: true,
  empty: true,
  oversized: true,
  'endless-chain': true,
  'no-status-word': true,
  replay: true,
  'lie-refused': true,
  refuse: false,
  'fake-ok': false,
};

export interface HostileRule {
  ins: number;
  /** Default: the proprietary class 80 (settlement commands). */
  cla?: number;
  /** Misbehave on the n-th matching command from now (1 = the next one); default: on every one. */
  nth?: number;
  misbehaviour: Misbehaviour;
}

const GET_RESPONSE = 0xc0;
const OVERSIZED_LENGTH = 70_000;

interface Answer {
  data: Uint8Array;
  sw: number;
}

export class HostileCard implements VirtualCard {
  private rule: (HostileRule & { seen: number }) | undefined;
  /** The last successful answer to each CLA/INS, for replays. */
  private readonly history = new Map<number, Answer>();
  /** The rest of an answer served in parts (61XX), and whether it never ends. */
  private pending: Uint8Array | undefined;
  private endless = false;
  private random: number;
  private misbehaved = 0;

  constructor(
    private readonly inner: VirtualCard,
    opts: { seed?: number } = {},
  ) {
    this.random = (opts.seed ?? 1) >>> 0 || 1;
  }

  get atr(): Uint8Array {
    return this.inner.atr;
  }

  /** How many answers were lies since the card was made. */
  get fired(): number {
    return this.misbehaved;
  }

  arm(rule: HostileRule): void {
    this.rule = { ...rule, seen: 0 };
  }

  disarm(): void {
    this.rule = undefined;
    this.endless = false;
  }

  powerUp(): void {
    this.clear();
    this.inner.powerUp();
  }

  powerDown(): void {
    this.clear();
    this.inner.powerDown();
  }

  reset(): void {
    this.clear();
    this.inner.reset();
  }

  transmit(apdu: Uint8Array): Uint8Array {
    let cmd: CommandApdu;
    try {
      cmd = parseCommandApdu(apdu);
    } catch {
      this.clear();
      return this.inner.transmit(apdu);
    }
    if (cmd.cla === 0x00 && cmd.ins === GET_RESPONSE && (this.pending || this.endless))
      return this.serveRest(cmd);
    this.clear();
    const misbehaviour = this.matches(cmd);
    if (misbehaviour && !EXECUTES[misbehaviour]) {
      this.misbehaved++;
      return misbehaviour === 'refuse'
        ? encodeResponseApdu(new Uint8Array(0), SW.UNKNOWN)
        : encodeResponseApdu(new Uint8Array(0), SW.OK);
    }
    const real = this.execute(apdu);
    if (!real) return new Uint8Array(0); // the card lost power: mute, as it is
    const key = (cmd.cla << 8) | cmd.ins;
    const earlier = this.history.get(key);
    if (real.sw === SW.OK) this.history.set(key, real);
    if (!misbehaviour) return this.serve(cmd, real);
    if (misbehaviour === 'replay' && !earlier) return this.serve(cmd, real); // nothing to replay yet
    this.misbehaved++;
    switch (misbehaviour) {
      case 'no-status-word':
        return Uint8Array.of(0x90);
      case 'endless-chain':
        this.endless = true;
        return encodeResponseApdu(this.junk(16), SW.BYTES_REMAINING | 0xff);
      case 'lie-refused':
        return encodeResponseApdu(new Uint8Array(0), SW.SECURITY_STATUS_NOT_SATISFIED);
      case 'replay':
        return this.serve(cmd, earlier!);
      default:
        return this.serve(cmd, { data: this.distort(misbehaviour, real.data), sw: SW.OK });
    }
  }

  private matches(cmd: CommandApdu): Misbehaviour | undefined {
    const rule = this.rule;
    if (!rule || cmd.ins !== rule.ins || cmd.cla !== (rule.cla ?? 0x80)) return undefined;
    rule.seen++;
    if (rule.nth !== undefined && rule.seen !== rule.nth) return undefined;
    return rule.misbehaviour;
  }

  /** Runs the command on the real card and collects its whole answer. */
  private execute(apdu: Uint8Array): Answer | undefined {
    let raw = this.inner.transmit(apdu);
    const chunks: Uint8Array[] = [];
    for (;;) {
      if (raw.length < 2) return undefined;
      const sw = (raw[raw.length - 2]! << 8) | raw[raw.length - 1]!;
      chunks.push(raw.subarray(0, raw.length - 2));
      if ((sw & 0xff00) !== SW.BYTES_REMAINING) return { data: concat(...chunks), sw };
      raw = this.inner.transmit(
        encodeCommandApdu({ cla: 0x00, ins: GET_RESPONSE, p1: 0, p2: 0, ne: sw & 0xff || 256 }),
      );
    }
  }

  private distort(m: Misbehaviour, data: Uint8Array): Uint8Array {
    switch (m) {
      case 'garbage':
        return this.junk(Math.max(data.length, 1));
      case 'corrupt': {
        const out = data.length ? data.slice() : Uint8Array.of(0);
        out[this.next() % out.length]! ^= 1 << (this.next() % 8);
        return out;
      }
      case 'bad-tlv': {
        // The first TLV's length runs past the end (for fixed-layout data: a wrong second byte).
        const out = data.length >= 2 ? data.slice() : Uint8Array.of(0xc0, 0);
        out[1] = 0x82;
        return out;
      }
      case 'short':
        return data.slice(0, Math.max(0, data.length - 1));
      case 'long':
        return concat(data, this.junk(1));
      case 'empty':
        return new Uint8Array(0);
      case 'oversized':
        return concat(data, this.junk(OVERSIZED_LENGTH - data.length));
      default:
        return data;
    }
  }

  /** Serves an answer by the command's Ne: the first part now, the rest on GET RESPONSE (61XX). */
  private serve(cmd: CommandApdu, answer: Answer): Uint8Array {
    const limit = cmd.ne === 0 ? (cmd.extended ? 65536 : 256) : cmd.ne;
    if (answer.sw !== SW.OK || answer.data.length <= limit) return encodeResponseApdu(answer.data, answer.sw);
    this.pending = answer.data.slice(limit);
    return encodeResponseApdu(answer.data.slice(0, limit), remaining(this.pending));
  }

  private serveRest(cmd: CommandApdu): Uint8Array {
    if (this.endless) return encodeResponseApdu(this.junk(16), SW.BYTES_REMAINING | 0xff);
    const rest = this.pending!;
    const limit = cmd.ne === 0 ? 256 : cmd.ne;
    if (rest.length <= limit) {
      this.pending = undefined;
      return encodeResponseApdu(rest, SW.OK);
    }
    this.pending = rest.slice(limit);
    return encodeResponseApdu(rest.slice(0, limit), remaining(this.pending));
  }

  private clear(): void {
    this.pending = undefined;
    this.endless = false;
  }

  /** xorshift32: deterministic junk, so a failing test replays. */
  private next(): number {
    let x = this.random;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.random = x >>> 0;
    return this.random;
  }

  private junk(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

function remaining(rest: Uint8Array): number {
  return SW.BYTES_REMAINING | (rest.length > 255 ? 0 : rest.length);
}
