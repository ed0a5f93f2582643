// What the terminal must still finish, from the journal alone (no card needed, so a read-only copy
// of the log answers it too): value transfers in doubt, release proofs not yet delivered to their
// payer, and open content flows (items in transfer, value reserved in an exchange). Each entry
// carries what a delivering party or the issuer needs to settle it without this terminal.
import type { Flows } from '../../../db/flows.js';
import type { Journal } from '../../../db/journal.js';
import {
  CONTENT_FLOW_KINDS,
  type ContentFlowKind,
  foldContentFlow,
  type OfferRecord,
} from '../contents/content-record.js';
import {
  foldTransfer,
  type TransferOrigin,
  type TransferRecord,
  valueState,
} from '../settlement/transfer-record.js';

export interface InDoubtTransfer extends TransferRecord {
  valueState: 'in-doubt';
}

/**
 * A release proof waiting for its payer card: REFUND DEBIT (Rt ‖ Rr ‖ RP) gives back what the payer
 * debited, at this terminal, at any other or through the issuer (a bearer proof that can only
 * return value to the card it came from, protocol §4.4).
 */
export interface PendingDelivery {
  flowId: string;
  /** Undefined: a transfer this terminal ran. */
  origin?: TransferOrigin;
  payerId: string;
  payeeId: string;
  payerSerial?: string;
  amount: number;
  currency: number;
  /** Unix seconds: the transfer's date, as both cards' records hold it. */
  date: number;
  txRandom: string;
  rxRandom: string;
  releaseProof: string;
  /** The flow's last journal entry (ISO 8601): the release, or a later delivery attempt. */
  updatedAt: string;
}

/** A content transmission or exchange not yet settled on both cards. */
export interface OpenContentFlow {
  flowId: string;
  kind: ContentFlowKind;
  origin?: 'found-on-card' | 'delivered';
  /** Sender of a transmission, initiator of an exchange (holder ID, hex). */
  fromId: string;
  /** Receiver of a transmission, responder of an exchange. */
  toId: string;
  /** What the first card gives: an item (locked in transfer) or an amount (reserved, or debited). */
  gives: OfferRecord;
  /** What the responder gives back (exchange). */
  takes?: OfferRecord;
  txId?: string;
  secondTxId?: string;
  /** The first card's deletion proof is journaled: the flow rolls forward when both cards are back. */
  committed: boolean;
  /** The receiver released it: the proof that gives the item or value back to the first card. */
  releaseProof?: string;
  lastStep: string;
  startedAt: string;
  updatedAt: string;
}

export interface InDoubtView {
  transfers: InDoubtTransfer[];
  deliveries: PendingDelivery[];
  contents: OpenContentFlow[];
}

export function inDoubtView(o: {
  journal: Pick<Journal, 'entriesForFlow'>;
  flows: Pick<Flows, 'openFlows'>;
}) {
  const open = o.flows.openFlows();
  const transfers = open
    .filter((f) => f.flowKind === 'value-transfer')
    .map((f) => foldTransfer(o.journal.entriesForFlow(f.flowId)));
  const view: InDoubtView = {
    transfers: transfers
      .filter((r) => valueState(r) === 'in-doubt')
      .map((r) => ({ ...r, valueState: 'in-doubt' as const })),
    deliveries: transfers.filter((r) => valueState(r) === 'returning').map(pendingDelivery),
    contents: open
      .filter((f) => CONTENT_FLOW_KINDS.includes(f.flowKind))
      .map((f) => openContentFlow(foldContentFlow(o.journal.entriesForFlow(f.flowId)))),
  };
  return view;
}

function pendingDelivery(r: TransferRecord): PendingDelivery {
  return {
    flowId: r.flowId,
    ...(r.origin ? { origin: r.origin } : {}),
    payerId: r.payerId,
    payeeId: r.payeeId,
    ...(r.payerSerial ? { payerSerial: r.payerSerial } : {}),
    amount: r.amount,
    currency: r.currency,
    date: r.date,
    txRandom: r.txRandom!,
    rxRandom: r.rxRandom!,
    releaseProof: r.releaseProof!,
    updatedAt: r.updatedAt,
  };
}

function openContentFlow(f: ReturnType<typeof foldContentFlow>): OpenContentFlow {
  return {
    flowId: f.flowId,
    kind: f.kind,
    ...(f.origin ? { origin: f.origin } : {}),
    fromId: f.fromId,
    toId: f.toId,
    gives: f.offer,
    ...(f.take ? { takes: f.take } : {}),
    ...(f.txId ? { txId: f.txId } : {}),
    ...(f.secondTxId ? { secondTxId: f.secondTxId } : {}),
    committed: f.committed,
    ...(f.releaseProof ? { releaseProof: f.releaseProof } : {}),
    lastStep: f.lastStep,
    startedAt: f.startedAt,
    updatedAt: f.updatedAt,
  };
}
