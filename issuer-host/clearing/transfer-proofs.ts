// Proofs at clearing (docs/issuer-host.md, "Proofs at clearing"): before the ledger books what a
// terminal uploaded, the cards' MACs the journal carries are checked with the issuer's transfer keys
// (clearing-keys.ts), as an EMV issuer checks the card's cryptogram before it accepts a clearing
// record. A registered terminal is trusted to say what it saw, never to say what a card did.
//
// Each value-transfer entry is read with the ledger's own fold (ledger-booker.ts: `learn`,
// `actionOf`), so a proof is checked against exactly the terms the booking would use, and every
// proof field is checked against those terms with its label (protocol §4.3):
//
//   challenge (TC, payee)  receptionChallenge (RC, payer)  ack (ACK, payee)      with Rr
//   releaseProof (RP, payee)                               abortProof (AP, payer)  Rr = zeros
//
// A booking is admitted only on a proof that verified, at or before its entry, and never at an entry
// whose own proof failed:
//
//   pending   any of TC, RC, ACK, AP, RP (a genuine card holds a record of these terms: the payee
//             made TC only after checking the payer's debit proof)
//   post      ACK (the payee credited)
//   void      AP (the payer never debited) or RP (the payee will never credit)
//
// An upload carrying a proof that fails is refused whole (E_UPLOAD_PROOF, alert clearing.proof),
// unless the terminal's own journal, by the end of the upload, set it aside as an honest terminal
// does when a card's answer was damaged on its way: a later copy of the same proof that verifies
// (`correctedFromCard`), an `ack-refused` naming the acknowledgement, or a genuine abort proof (the
// payer never debited: nothing of the flow can move). A release proof in a flow of origin
// `delivered` was handed to the terminal, not made by its cards: a failing one books nothing and is
// not kept, but does not stop the terminal's clearing.

import { fromHex } from '../../protocol/bytes.js';
import { MAC_LABEL, type MacLabel, ZERO_RANDOM } from '../../protocol/settlement/mac-input.js';
import { heldFlowEntries } from '../db/clearing-records.js';
import type { Sql } from '../db/host-database.js';
import { type Action, type AdmitBooking, actionOf, type FlowState, learn } from '../ledger/ledger-booker.js';
import type { TransferProofVerifier } from './clearing-keys.js';
import { type IngestContext, type IngestedEntry, refuseFirstFailedProof } from './ingest.js';

const PROOF_FIELDS = {
  challenge: { label: MAC_LABEL.TRANSMISSION_CHALLENGE, withRr: true, name: 'transmission challenge' },
  receptionChallenge: { label: MAC_LABEL.RECEPTION_CHALLENGE, withRr: true, name: 'reception challenge' },
  ack: { label: MAC_LABEL.CREDIT_ACKNOWLEDGEMENT, withRr: true, name: 'acknowledgement' },
  abortProof: { label: MAC_LABEL.ABORT_PROOF, withRr: false, name: 'abort proof' },
  releaseProof: { label: MAC_LABEL.RELEASE_PROOF, withRr: true, name: 'release proof' },
} as const satisfies Record<string, { label: MacLabel; withRr: boolean; name: string }>;
type ProofField = keyof typeof PROOF_FIELDS;
const FIELDS = Object.keys(PROOF_FIELDS) as ProofField[];

const HOLDER_ID = /^[0-9A-F]{32}$/;
const MAC = /^[0-9A-F]{32}$/;
const U32 = 0xffff_ffff;

interface CheckedProof {
  seq: number;
  step: string;
  field: ProofField;
  hex: string;
  ok: boolean;
  /** In this upload (a held entry is never refused again). */
  fresh: boolean;
}

interface FlowProofs {
  flowId: string;
  state: FlowState;
  origin?: string;
  proofs: CheckedProof[];
  verified: Set<ProofField>;
  refusedAcks: Set<string>;
}

/**
 * Checks the proofs of the upload's value transfers (and of the held entries of the flows it
 * continues) and returns which bookings the ledger may make; throws E_UPLOAD_PROOF (a ChainRefusal:
 * the upload rolls back whole and raises an alert) for a proof that fails and was not set aside.
 */
export async function checkTransferProofs(
  tx: Sql,
  context: IngestContext,
  entries: readonly IngestedEntry[],
  verifier: TransferProofVerifier,
): Promise<AdmitBooking> {
  const transfers = entries.filter((e) => e.flowKind === 'value-transfer');
  const admitted = new Map<number, Action>();
  if (transfers.length === 0) return () => true;
  const flows = new Map<string, FlowProofs>();
  const flowOf = (flowId: string) => {
    let f = flows.get(flowId);
    if (f === undefined) {
      f = { flowId, state: {}, proofs: [], verified: new Set(), refusedAcks: new Set() };
      flows.set(flowId, f);
    }
    return f;
  };
  for (const held of await heldFlowEntries(tx, context.terminalId, entries[0]!.seq, transfers)) {
    read(verifier, flowOf(held.flowId), held.seq, held.step, held.payload, false);
  }
  for (const entry of transfers) {
    const flow = flowOf(entry.flowId);
    const entryOk = read(verifier, flow, entry.seq, entry.step, entry.payload, true);
    const action = actionOf(entry.step, entry.payload, flow.state);
    if (action !== null && entryOk && backs(flow.verified, action)) admitted.set(entry.seq, action);
  }
  refuseFirstFailedProof(
    [...flows.values()].flatMap((f) =>
      f.proofs
        .filter((p) => p.fresh && !p.ok && !setAside(f, p))
        .map((p) => ({
          flowId: f.flowId,
          seq: p.seq,
          step: p.step,
          field: p.field,
          what: `a ${PROOF_FIELDS[p.field].name} that no card made: it does not verify under the issuer's transfer keys for the flow's terms`,
        })),
    ),
  );
  return (entry, action) => admitted.get(entry.seq) === action;
}

/** Folds one entry into its flow; checks the proofs it carries. Returns whether they all verified. */
function read(
  verifier: TransferProofVerifier,
  flow: FlowProofs,
  seq: number,
  step: string,
  payload: Record<string, unknown>,
  fresh: boolean,
): boolean {
  learn(flow.state, step, payload);
  if (step === 'started' && typeof payload.origin === 'string') flow.origin = payload.origin;
  let allOk = true;
  for (const field of FIELDS) {
    const value = payload[field];
    if (value === undefined) continue;
    const hex = typeof value === 'string' ? value : '';
    const ok = verifies(verifier, flow.state, field, hex);
    flow.proofs.push({ seq, step, field, hex, ok, fresh });
    if (ok) flow.verified.add(field);
    else allOk = false;
  }
  if (step === 'ack-refused') {
    const named = typeof payload.refusedAck === 'string' ? payload.refusedAck : undefined;
    const last = flow.proofs.findLast((p) => p.field === 'ack');
    const refusedAck = named ?? last?.hex;
    if (refusedAck !== undefined) flow.refusedAcks.add(refusedAck);
  }
  return allOk;
}

function verifies(verifier: TransferProofVerifier, s: FlowState, field: ProofField, hex: string): boolean {
  const { label, withRr } = PROOF_FIELDS[field];
  const random = (r: string | undefined) => (r !== undefined && MAC.test(r) ? fromHex(r) : undefined);
  const txRandom = random(s.txRandom);
  const rxRandom = withRr ? random(s.rxRandom) : ZERO_RANDOM;
  if (
    !MAC.test(hex) ||
    s.payerId === undefined ||
    s.payeeId === undefined ||
    !HOLDER_ID.test(s.payerId) ||
    !HOLDER_ID.test(s.payeeId) ||
    !inRange(s.amount, U32) ||
    !inRange(s.currency, 0xffff) ||
    !inRange(s.date, U32) ||
    txRandom === undefined ||
    rxRandom === undefined
  ) {
    return false; // no terms a card could have made this MAC over
  }
  const terms = {
    payerId: fromHex(s.payerId),
    payeeId: fromHex(s.payeeId),
    currency: s.currency!,
    amount: s.amount!,
    date: s.date!,
    txRandom,
    rxRandom,
  };
  return verifier.verify(label, terms, fromHex(hex)) !== undefined;
}

function inRange(n: number | undefined, max: number): boolean {
  return n !== undefined && Number.isSafeInteger(n) && n >= 0 && n <= max;
}

/** Whether the proofs verified so far back a booking of this kind. */
function backs(verified: ReadonlySet<ProofField>, action: 'pending' | 'post' | 'void'): boolean {
  switch (action) {
    case 'pending':
      return verified.size > 0;
    case 'post':
      return verified.has('ack');
    case 'void':
      return verified.has('abortProof') || verified.has('releaseProof');
  }
}

/** A failing proof the terminal's own journal set aside by the end of the upload. */
function setAside(flow: FlowProofs, p: CheckedProof): boolean {
  if (flow.proofs.some((q) => q.field === p.field && q.ok && q.seq > p.seq)) return true;
  if (p.field === 'ack' && flow.refusedAcks.has(p.hex)) return true;
  if (flow.verified.has('abortProof')) return true;
  return p.field === 'releaseProof' && flow.origin === 'delivered';
}

/** The booker that checks the cards' proofs first: the host's booker when it holds a key set. */
export function provenBooker(
  verifier: TransferProofVerifier,
  book: (
    tx: Sql,
    context: IngestContext,
    entries: readonly IngestedEntry[],
    admit: AdmitBooking,
  ) => Promise<void>,
) {
  return async (tx: Sql, context: IngestContext, entries: readonly IngestedEntry[]): Promise<void> => {
    const admit = await checkTransferProofs(tx, context, entries, verifier);
    await book(tx, context, entries, admit);
  };
}
