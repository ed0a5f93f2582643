// Exchanges at clearing (docs/issuer-host.md, "Exchanges at clearing"): what the cards proved of a
// content exchange (protocol §9), read from a terminal's journal and checked with public keys only.
// Every proof of a content transfer is an ECDSA signature by a card key over
//
//   label ‖ tx ID ‖ sender ID ‖ receiver ID ‖ SHA-256(payload) ‖ linked tx ID (zeros if none)
//
// and the flow's `started` entry carries each card's certificate, which is checked against the issuer
// CA and must name the card of its role. The payload of a value half is the amount and currency the
// booking uses (its digest computed here); an item half's digest is journaled by the terminal from
// its sender's record (the body never leaves the cards), so a proof over an item half binds what the
// terminal said, and backs a booking only because the card signed that digest.
//
// An exchange is the initiator I's first half X (I → responder R) and R's second half Y (R → I,
// linked to X). The proofs the journal carries:
//
//   firstCommit          CRC of X, by R     (R holds X pending)
//   firstDeletionProof   CDL of X, by I     (I committed X: the exchange rolls forward unless R releases X)
//   secondCommit         CRC of Y, by I     (I holds Y pending)
//   secondDeletionProof  CDL of Y, by R     (R gave Y up in the write in which it accepted X)
//   secondAcceptance     CAK of Y, by I     (I accepted Y)
//   abortProof           CAB of X, by I     (X never moves: I discards Y, R aborts Y)
//   releaseProof         CRP of X, by R     (R gave X back; Y aborted with it: nothing moves)
//
// For each value half the evidence of each booking (exchange-booker.ts books on it):
//
//   pending  any genuine proof of the half itself
//   post     the receiver accepted it: X by secondDeletionProof, Y by secondAcceptance
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

export type Half = 'first' | 'second';
type Role = 'initiator' | 'responder';

export const EXCHANGE_PROOFS = {
  firstCommit: {
    half: 'first',
    label: CONTENT_SIGNATURE_LABEL.COMMIT_INSTRUCTION,
    by: 'responder',
    name: 'commit instruction',
  },
  firstDeletionProof: {
    half: 'first',
    label: CONTENT_SIGNATURE_LABEL.DELETION_PROOF,
    by: 'initiator',
    name: 'deletion proof',
  },
  secondCommit: {
    half: 'second',
    label: CONTENT_SIGNATURE_LABEL.COMMIT_INSTRUCTION,
    by: 'initiator',
    name: 'commit instruction',
  },
  secondDeletionProof: {
    half: 'second',
    label: CONTENT_SIGNATURE_LABEL.DELETION_PROOF,
    by: 'responder',
    name: 'deletion proof',
  },
  secondAcceptance: {
    half: 'second',
    label: CONTENT_SIGNATURE_LABEL.ACCEPTANCE,
    by: 'initiator',
    name: 'acceptance',
  },
  abortProof: {
    half: 'first',
    label: CONTENT_SIGNATURE_LABEL.ABORT_PROOF,
    by: 'initiator',
    name: 'abort proof',
  },
  releaseProof: {
    half: 'first',
    label: CONTENT_SIGNATURE_LABEL.RELEASE_PROOF,
    by: 'responder',
    name: 'release proof',
  },
} as const satisfies Record<string, { half: Half; label: ContentSignatureLabel; by: Role; name: string }>;
export type ExchangeProofField = keyof typeof EXCHANGE_PROOFS;
const PROOF_FIELDS = Object.keys(EXCHANGE_PROOFS) as ExchangeProofField[];
const CERTIFICATE_FIELDS = { initiatorCertificate: 'initiator', responderCertificate: 'responder' } as const;

const HOLDER_ID = /^[0-9A-F]{32}$/;
const TX_ID = /^[0-9A-F]{32}$/;
const DIGEST = /^[0-9A-F]{64}$/;
const SIGNATURE = /^[0-9A-F]{16,160}$/;
const U32 = 0xffff_ffff;

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

/** A content exchange as the host reads it from one terminal's flow. */
export class ExchangeFold {
  private ids: Partial<Record<Role, string>> = {};
  private offers: Partial<Record<Half, Record<string, unknown>>> = {};
  private txIds: Partial<Record<Half, string>> = {};
  private digests: Partial<Record<Half, string>> = {};
  private readonly keys = new Map<string, Uint8Array>();
  readonly evidence: CheckedEvidence[] = [];
  private readonly verified = new Set<ExchangeProofField>();
  /** Verified proofs by half: a value half's own proofs back its pending. */
  private readonly provedHalves = new Set<Half>();

  constructor(
    readonly flowId: string,
    private readonly ca: ParsedCertificate,
  ) {}

  /** Folds one entry; checks what it carries. Returns whether nothing in it failed. */
  read(seq: number, step: string, payload: Record<string, unknown>, fresh: boolean): boolean {
    if (step === 'started') {
      for (const role of ['initiator', 'responder'] as const) {
        const id = payload[`${role}Id`];
        if (typeof id === 'string' && HOLDER_ID.test(id)) this.ids[role] = id;
      }
      if (isObject(payload.give)) this.offers.first = payload.give;
      if (isObject(payload.take)) this.offers.second = payload.take;
    }
    if (typeof payload.firstTxId === 'string' && TX_ID.test(payload.firstTxId))
      this.txIds.first = payload.firstTxId;
    if (typeof payload.secondTxId === 'string' && TX_ID.test(payload.secondTxId))
      this.txIds.second = payload.secondTxId;
    if (typeof payload.firstDigest === 'string' && DIGEST.test(payload.firstDigest))
      this.digests.first = payload.firstDigest;
    if (typeof payload.secondDigest === 'string' && DIGEST.test(payload.secondDigest))
      this.digests.second = payload.secondDigest;
    let allOk = true;
    for (const [field, role] of Object.entries(CERTIFICATE_FIELDS)) {
      if (payload[field] === undefined) continue;
      const ok = this.learnCertificate(role, payload[field]);
      this.evidence.push({ seq, step, field, verdict: ok ? 'ok' : 'failed', refuses: true, fresh });
      allOk &&= ok;
    }
    for (const field of PROOF_FIELDS) {
      if (payload[field] === undefined) continue;
      const { verdict, refuses } = this.check(field, payload[field]);
      this.evidence.push({ seq, step, field, verdict, refuses, fresh });
      if (verdict === 'ok') {
        this.verified.add(field);
        this.provedHalves.add(EXCHANGE_PROOFS[field].half);
      }
      allOk &&= verdict !== 'failed';
    }
    return allOk;
  }

  /** The exchange's value halves whose terms are known, with the bookings the verified proofs back. */
  backedBookings(): { leg: ValueHalf; phases: ('pending' | 'post' | 'void')[] }[] {
    const out: { leg: ValueHalf; phases: ('pending' | 'post' | 'void')[] }[] = [];
    for (const half of ['first', 'second'] as const) {
      const leg = this.valueHalf(half);
      if (leg === undefined || !this.provedHalves.has(half)) continue;
      const phases: ('pending' | 'post' | 'void')[] = ['pending'];
      const accepted = this.verified.has(half === 'first' ? 'secondDeletionProof' : 'secondAcceptance');
      if (accepted) phases.push('post');
      if (this.verified.has('abortProof') || this.verified.has('releaseProof')) phases.push('void');
      out.push({ leg, phases });
    }
    return out;
  }

  /** A failing fresh check the terminal's journal set aside by the end of the upload. */
  setAside(e: CheckedEvidence): boolean {
    if (!e.refuses) return true;
    if (e.field in CERTIFICATE_FIELDS) return false; // the terminal checked it against the CA itself
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
  }

  private valueHalf(half: Half): ValueHalf | undefined {
    const offer = this.offers[half];
    const txId = this.txIds[half];
    const { initiator, responder } = this.ids;
    if (!offer || !txId || !initiator || !responder) return undefined;
    const { amount, currency } = offer;
    if (!inRange(amount, 1, U32) || !inRange(currency, 1, 999)) return undefined;
    const [senderId, receiverId] = half === 'first' ? [initiator, responder] : [responder, initiator];
    return { half, senderId, receiverId, txId, amount: amount as number, currency: currency as number };
  }

  private learnCertificate(role: Role, value: unknown): boolean {
    const id = this.ids[role];
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

  private check(
    field: ExchangeProofField,
    value: unknown,
  ): { verdict: CheckedEvidence['verdict']; refuses: boolean } {
    const { half, label, by } = EXCHANGE_PROOFS[field];
    const valueTerms = this.valueHalf(half);
    const digest = valueTerms
      ? sha256Digest(encodeValue(valueTerms.amount, valueTerms.currency))
      : this.digests[half] !== undefined
        ? fromHex(this.digests[half])
        : undefined;
    const signer = this.ids[by];
    const key = signer === undefined ? undefined : this.keys.get(signer);
    const txId = this.txIds[half];
    const { initiator, responder } = this.ids;
    // A proof over a value half binds only terms the booking uses: a failure is a forgery (or a damaged
    // answer the journal must set aside). Over an item half it binds the terminal's digest too.
    const refuses = valueTerms !== undefined;
    if (typeof value !== 'string' || !SIGNATURE.test(value)) return { verdict: 'failed', refuses };
    if (!digest || !key || !txId || !initiator || !responder) return { verdict: 'unchecked', refuses: false };
    if (half === 'second' && this.txIds.first === undefined) return { verdict: 'unchecked', refuses: false };
    const [senderId, receiverId] = half === 'first' ? [initiator, responder] : [responder, initiator];
    const message = contentSignatureMessage(label, {
      txId: fromHex(txId),
      senderId: fromHex(senderId),
      receiverId: fromHex(receiverId),
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

/** The transfer key of an exchange leg: its sender's holder ID and the half's transfer ID. */
export function legKey(leg: ValueHalf): string {
  return `${leg.senderId}:${leg.txId}`;
}
