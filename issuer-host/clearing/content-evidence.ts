// Content flows at clearing (docs/content-clearing.md): what the cards proved of a content
// transmission (a send) or exchange (protocol §9), read from a terminal's journal and checked with
// public keys only. Every proof of a content transfer is an ECDSA signature by a card key over
//
//   label ‖ tx ID ‖ sender ID ‖ receiver ID ‖ SHA-256(payload) ‖ linked tx ID (zeros if none)
//
// and the flow's `started` entry carries each card's certificate, which is checked against the issuer
// CA and must name the card of its role. The payload of a value half is the amount and currency the
// booking uses (its digest computed here); an item half's digest is journaled by the terminal from
// its sender's record (the body never leaves the cards), so a proof over an item half binds what the
// terminal said, and backs a booking only because the card signed that digest.
//
// A send is one half: the sender S's transfer to the receiver V. An exchange is two: the initiator
// I's first half X (I → responder R) and R's second half Y (R → I, linked to X). A send and X sign
// the same message, so a send is booked exactly like X; only the proof that the receiver accepted
// differs (V's acceptance; R answers the accept of X with its deletion proof of Y). The proofs the
// journal carries:
//
//   send                  exchange
//   commitInstruction     firstCommit          CRC of the first half, by its receiver (held pending)
//   deletionProof         firstDeletionProof   CDL of the first half, by its sender (it rolls forward)
//   acceptance            —                    CAK of the first half, by its receiver (it accepted)
//   —                     secondCommit         CRC of Y, by I (I holds Y pending)
//   —                     secondDeletionProof  CDL of Y, by R (R gave Y up in the write that accepted X)
//   —                     secondAcceptance     CAK of Y, by I (I accepted Y)
//   abortProof            abortProof           CAB of the first half, by its sender (it never moves)
//   releaseProof          releaseProof         CRP of the first half, by its receiver (given back;
//                                                Y aborted with X)
//
// For each value half the evidence of each booking (content-booker.ts books on it):
//
//   pending  any genuine proof of the half itself
//   post     its receiver accepted it: a send by acceptance, X by secondDeletionProof, Y by secondAcceptance
//   void     abortProof or releaseProof (of X: for Y too, since R never gives Y without accepting X)
import { fromHex, toHex } from '../../protocol/bytes.js';
import { ecdsaVerify, sha256Digest } from '../../protocol/crypto-suite.js';
import {
  type ParsedCertificate,
  parseCertificate,
  verifyCertificateSignature,
} from '../../protocol/pki/index.js';
import {
  CONTENT_SIGNATURE_LABEL,
  type ContentSignatureLabel,
  contentSignatureMessage,
  encodeValue,
} from '../../protocol/settlement/contents-codec.js';
import type { ContentRelease } from '../db/content-release-records.js';
import type { TransferKind } from '../db/ledger-records.js';

export type Half = 'first' | 'second';
/** The flow's first card (sender, initiator: its offer goes first) or its second. */
type Side = 0 | 1;
type Phase = 'pending' | 'post' | 'void';

interface ProofSpec {
  half: Half;
  label: ContentSignatureLabel;
  /** The card that signs it. */
  by: Side;
}

/** How one kind of content flow names its cards, halves and proofs in the journal (docs/journal.md). */
export interface ContentFlowShape {
  /** The ledger kind of its value halves (migrations 007, 008). */
  legKind: Extract<TransferKind, 'exchange-leg' | 'content-send'>;
  /** Names of its two cards: `<role>Id`, `<role>Certificate` in `started`. */
  roles: readonly [string, string];
  /** Per half, the payload keys of its offer (`started`), transfer ID and (item half) digest. */
  halves: Partial<Record<Half, { offer: string; txId: string; digest: string }>>;
  proofs: Record<string, ProofSpec>;
  /** Per half, the proof that its receiver accepted it. */
  accepted: Partial<Record<Half, string>>;
  /** Proofs that every value half of the flow is void. */
  voids: readonly string[];
}

const { COMMIT_INSTRUCTION, DELETION_PROOF, ACCEPTANCE, ABORT_PROOF, RELEASE_PROOF } =
  CONTENT_SIGNATURE_LABEL;

/** The first half's proofs that need no second one: its abort and release. */
const FIRST_HALF_ENDINGS = {
  abortProof: { half: 'first', label: ABORT_PROOF, by: 0 },
  releaseProof: { half: 'first', label: RELEASE_PROOF, by: 1 },
} as const satisfies Record<string, ProofSpec>;

export type ContentFlowKind = 'content-transfer' | 'content-exchange';

export const CONTENT_FLOW_SHAPES: Record<ContentFlowKind, ContentFlowShape> = {
  'content-transfer': {
    legKind: 'content-send',
    roles: ['sender', 'receiver'],
    halves: { first: { offer: 'offer', txId: 'txId', digest: 'digest' } },
    proofs: {
      commitInstruction: { half: 'first', label: COMMIT_INSTRUCTION, by: 1 },
      deletionProof: { half: 'first', label: DELETION_PROOF, by: 0 },
      acceptance: { half: 'first', label: ACCEPTANCE, by: 1 },
      ...FIRST_HALF_ENDINGS,
    },
    accepted: { first: 'acceptance' },
    voids: Object.keys(FIRST_HALF_ENDINGS),
  },
  'content-exchange': {
    legKind: 'exchange-leg',
    roles: ['initiator', 'responder'],
    halves: {
      first: { offer: 'give', txId: 'firstTxId', digest: 'firstDigest' },
      second: { offer: 'take', txId: 'secondTxId', digest: 'secondDigest' },
    },
    proofs: {
      firstCommit: { half: 'first', label: COMMIT_INSTRUCTION, by: 1 },
      firstDeletionProof: { half: 'first', label: DELETION_PROOF, by: 0 },
      secondCommit: { half: 'second', label: COMMIT_INSTRUCTION, by: 0 },
      secondDeletionProof: { half: 'second', label: DELETION_PROOF, by: 1 },
      secondAcceptance: { half: 'second', label: ACCEPTANCE, by: 0 },
      ...FIRST_HALF_ENDINGS,
    },
    accepted: { first: 'secondDeletionProof', second: 'secondAcceptance' },
    voids: Object.keys(FIRST_HALF_ENDINGS),
  },
};

const HOLDER_ID = /^[0-9A-F]{32}$/;
const TX_ID = /^[0-9A-F]{32}$/;
const DIGEST = /^[0-9A-F]{64}$/;
const SIGNATURE = /^[0-9A-F]{16,160}$/;
const U32 = 0xffff_ffff;
const HALVES: readonly Half[] = ['first', 'second'];

/** A value half's terms: who pays whom how much, under which transfer ID. */
export interface ValueHalf {
  half: Half;
  senderId: string;
  receiverId: string;
  txId: string;
  amount: number;
  currency: number;
}

/** One proof or certificate as checked: `unchecked` when the key, transfer ID or digest it needs is unknown. */
export interface CheckedEvidence {
  seq: number;
  step: string;
  field: string;
  verdict: 'ok' | 'failed' | 'unchecked';
  /** A failure that refuses the upload (a certificate, or a proof over a value half's own terms). */
  refuses: boolean;
  /** In this upload (a held entry is never refused again). */
  fresh: boolean;
}

/** A content send or exchange as the host reads it from one terminal's flow. */
export class ContentFold {
  private ids: Partial<Record<Side, string>> = {};
  private offers: Partial<Record<Half, Record<string, unknown>>> = {};
  private txIds: Partial<Record<Half, string>> = {};
  private digests: Partial<Record<Half, string>> = {};
  private readonly keys = new Map<string, Uint8Array>();
  readonly evidence: CheckedEvidence[] = [];
  private readonly verified = new Set<string>();
  /** Verified proofs by half: a value half's own proofs back its pending. */
  private readonly provedHalves = new Set<Half>();
  /** Where each verified proof was first seen, and its value. */
  private readonly verifiedAt = new Map<string, { seq: number; value: string; fresh: boolean }>();
  /** The first entry of this upload that says the sender took the release proof (step 'refunded'). */
  private refundedAt: number | undefined;

  constructor(
    readonly flowId: string,
    readonly shape: ContentFlowShape,
    private readonly ca: ParsedCertificate,
  ) {}

  /** Folds one entry; checks what it carries. Returns whether nothing in it failed. */
  read(seq: number, step: string, payload: Record<string, unknown>, fresh: boolean): boolean {
    const { roles, halves, proofs } = this.shape;
    if (step === 'started') {
      roles.forEach((role, side) => {
        const id = payload[`${role}Id`];
        if (typeof id === 'string' && HOLDER_ID.test(id)) this.ids[side as Side] = id;
      });
    }
    for (const half of HALVES) {
      const keys = halves[half];
      if (keys === undefined) continue;
      const offer = payload[keys.offer];
      if (step === 'started' && isObject(offer)) this.offers[half] = offer;
      const txId = payload[keys.txId];
      if (typeof txId === 'string' && TX_ID.test(txId)) this.txIds[half] = txId;
      const digest = payload[keys.digest];
      if (typeof digest === 'string' && DIGEST.test(digest)) this.digests[half] = digest;
    }
    let allOk = true;
    roles.forEach((role, side) => {
      const field = `${role}Certificate`;
      if (payload[field] === undefined) return;
      const ok = this.learnCertificate(side as Side, payload[field]);
      this.evidence.push({ seq, step, field, verdict: ok ? 'ok' : 'failed', refuses: true, fresh });
      allOk &&= ok;
    });
    for (const field of Object.keys(proofs)) {
      if (payload[field] === undefined) continue;
      const { verdict, refuses } = this.check(field, payload[field]);
      this.evidence.push({ seq, step, field, verdict, refuses, fresh });
      if (verdict === 'ok') {
        this.verified.add(field);
        this.provedHalves.add(proofs[field]!.half);
        this.verifiedAt.set(field, { seq, value: payload[field] as string, fresh });
      }
      allOk &&= verdict !== 'failed';
    }
    return allOk;
  }

  /** The flow's value halves whose terms are known, with the bookings the verified proofs back. */
  backedBookings(): { leg: ValueHalf; phases: Phase[] }[] {
    const out: { leg: ValueHalf; phases: Phase[] }[] = [];
    for (const half of HALVES) {
      const leg = this.valueHalf(half);
      if (leg === undefined || !this.provedHalves.has(half)) continue;
      const phases: Phase[] = ['pending'];
      const accepted = this.shape.accepted[half];
      if (accepted !== undefined && this.verified.has(accepted)) phases.push('post');
      if (this.shape.voids.some((field) => this.verified.has(field))) phases.push('void');
      out.push({ leg, phases });
    }
    return out;
  }

  /** A failing fresh check the terminal's journal set aside by the end of the upload. */
  setAside(e: CheckedEvidence): boolean {
    if (!e.refuses) return true;
    if (e.field.endsWith('Certificate')) return false; // the terminal checked it against the CA itself
    // The card the proof was relayed to refused it, or the relay broke: a damaged answer, as an honest
    // terminal journals it (a later copy that verifies, or the outcome recovery reads from the cards).
    return this.evidence.some(
      (x) =>
        x.seq > e.seq &&
        ((x.field === e.field && x.verdict === 'ok') ||
          x.step === 'card-refused' ||
          x.step === 'interrupted'),
    );
  }

  /** Records the steps that set a failing proof aside (no proof field of their own). */
  noteStep(seq: number, step: string, fresh: boolean): void {
    if (step === 'card-refused' || step === 'interrupted')
      this.evidence.push({ seq, step, field: '', verdict: 'ok', refuses: false, fresh });
    if (step === 'refunded' && fresh) this.refundedAt ??= seq;
  }

  /**
   * The first half's release proof when this upload brought it and it verified under the receiver's
   * certificate: what the host keeps for the sender card (content-release-records.ts).
   */
  freshRelease(): ContentRelease | undefined {
    const at = this.verifiedAt.get('releaseProof');
    const parties = this.partiesOf('first');
    const txId = this.txIds.first;
    if (!at?.fresh || !parties || !txId) return undefined;
    const value = this.valueHalf('first');
    const itemId = this.offers.first?.itemId;
    const offer = value
      ? { amount: value.amount, currency: value.currency }
      : typeof itemId === 'string' && /^(?:[0-9A-F]{2}){0,64}$/.test(itemId)
        ? { itemId }
        : undefined;
    if (offer === undefined) return undefined;
    const digest = this.digests.first;
    return {
      transferKey: `${parties[0]}:${txId}`,
      flowKind: this.shape.legKind === 'content-send' ? 'content-transfer' : 'content-exchange',
      senderId: parties[0],
      receiverId: parties[1],
      txId,
      releaseProof: at.value,
      offer,
      ...(digest ? { digest } : {}),
      seq: at.seq,
    };
  }

  /**
   * Where this upload says the sender's record of the first half is settled for good, so that no
   * release proof is needed any more: given back (a 'refunded' step) or aborted (its verified abort
   * proof). The terminal's word for 'refunded': CONTENT RETURN's answer carries no card proof.
   */
  senderClosed(): { transferKey: string; how: 'returned' | 'aborted'; seq: number } | undefined {
    const sender = this.ids[0];
    const txId = this.txIds.first;
    if (sender === undefined || txId === undefined) return undefined;
    const transferKey = `${sender}:${txId}`;
    if (this.refundedAt !== undefined) return { transferKey, how: 'returned', seq: this.refundedAt };
    const abort = this.verifiedAt.get('abortProof');
    if (abort?.fresh) return { transferKey, how: 'aborted', seq: abort.seq };
    return undefined;
  }

  /** The sender and receiver of a half (holder IDs), when both are known. */
  private partiesOf(half: Half): [string, string] | undefined {
    const [a, b] = [this.ids[0], this.ids[1]];
    if (a === undefined || b === undefined) return undefined;
    return half === 'first' ? [a, b] : [b, a];
  }

  private valueHalf(half: Half): ValueHalf | undefined {
    const offer = this.offers[half];
    const txId = this.txIds[half];
    const parties = this.partiesOf(half);
    if (!offer || !txId || !parties) return undefined;
    const { amount, currency } = offer;
    if (!inRange(amount, 1, U32) || !inRange(currency, 1, 999)) return undefined;
    const [senderId, receiverId] = parties;
    return { half, senderId, receiverId, txId, amount: amount as number, currency: currency as number };
  }

  private learnCertificate(side: Side, value: unknown): boolean {
    const id = this.ids[side];
    if (typeof value !== 'string' || !/^(?:[0-9A-F]{2})+$/.test(value) || id === undefined) return false;
    try {
      const cert = parseCertificate(fromHex(value));
      if (cert.isCa || !cert.holderId || toHex(cert.holderId) !== id) return false;
      if (!verifyCertificateSignature(cert, this.ca.publicKey)) return false;
      this.keys.set(id, cert.publicKey);
      return true;
    } catch {
      return false;
    }
  }

  private check(field: string, value: unknown): { verdict: CheckedEvidence['verdict']; refuses: boolean } {
    const { half, label, by } = this.shape.proofs[field]!;
    const valueTerms = this.valueHalf(half);
    const digest = valueTerms
      ? sha256Digest(encodeValue(valueTerms.amount, valueTerms.currency))
      : this.digests[half] !== undefined
        ? fromHex(this.digests[half])
        : undefined;
    const signer = this.ids[by];
    const key = signer === undefined ? undefined : this.keys.get(signer);
    const txId = this.txIds[half];
    const parties = this.partiesOf(half);
    // A proof over a value half binds only terms the booking uses: a failure is a forgery (or a damaged
    // answer the journal must set aside). Over an item half it binds the terminal's digest too.
    const refuses = valueTerms !== undefined;
    if (typeof value !== 'string' || !SIGNATURE.test(value)) return { verdict: 'failed', refuses };
    if (!digest || !key || !txId || !parties) return { verdict: 'unchecked', refuses: false };
    if (half === 'second' && this.txIds.first === undefined) return { verdict: 'unchecked', refuses: false };
    const message = contentSignatureMessage(label, {
      txId: fromHex(txId),
      senderId: fromHex(parties[0]),
      receiverId: fromHex(parties[1]),
      digest,
      linkTxId: half === 'second' ? fromHex(this.txIds.first!) : undefined,
    });
    return { verdict: ecdsaVerify(key, message, fromHex(value)) ? 'ok' : 'failed', refuses };
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function inRange(n: unknown, min: number, max: number): boolean {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= min && n <= max;
}

/** The transfer key of a content leg: its sender's holder ID and the half's transfer ID. */
export function legKey(leg: ValueHalf): string {
  return `${leg.senderId}:${leg.txId}`;
}
