// Content release proofs at the host (migration 009; docs/issuer-host.md, "Release proofs"): kept by
// the content booker in the clearing ingest's transaction once a proof verified under its receiver's
// certificate, closed once an upload says the sender's record is settled for good, and served for
// the sender card until then.
import type { Sql } from './host-database.js';

/** A verified content release proof with what its delivery to the sender card needs. */
export interface ContentRelease {
  /** The content leg's key: sender holder ID : transfer ID. */
  transferKey: string;
  flowKind: 'content-transfer' | 'content-exchange';
  senderId: string;
  receiverId: string;
  txId: string;
  releaseProof: string;
  offer: { amount: number; currency: number } | { itemId: string };
  digest?: string;
  /** The entry that carried the proof. */
  seq: number;
}

export async function keepContentRelease(tx: Sql, r: ContentRelease, terminalId: string): Promise<void> {
  const value = 'amount' in r.offer ? r.offer : undefined;
  await tx.query(
    `INSERT INTO content_release_proofs (transfer_key, flow_kind, sender_id, receiver_id, tx_id, release_proof,
       amount, currency, item_id, digest, terminal_id, seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT (transfer_key) DO NOTHING`,
    [
      r.transferKey,
      r.flowKind,
      r.senderId,
      r.receiverId,
      r.txId,
      r.releaseProof,
      value?.amount ?? null,
      value?.currency ?? null,
      'itemId' in r.offer ? r.offer.itemId : null,
      r.digest ?? null,
      terminalId,
      r.seq,
    ],
  );
}

export async function noteContentReturn(
  tx: Sql,
  c: { transferKey: string; how: 'returned' | 'aborted'; terminalId: string; flowId: string; seq: number },
): Promise<void> {
  await tx.query(
    `INSERT INTO content_returns (transfer_key, how, terminal_id, flow_id, seq) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (transfer_key) DO NOTHING`,
    [c.transferKey, c.how, c.terminalId, c.flowId, c.seq],
  );
}

/** The content release proofs for a sender card whose record no upload has said settled (at most 100). */
export async function contentReleaseProofsForCard(sql: Sql, senderId: string): Promise<ContentRelease[]> {
  const rows = await sql.query<{
    transfer_key: string;
    flow_kind: ContentRelease['flowKind'];
    sender_id: string;
    receiver_id: string;
    tx_id: string;
    release_proof: string;
    amount: bigint | null;
    currency: number | null;
    item_id: string | null;
    digest: string | null;
    seq: bigint;
  }>(
    `SELECT r.* FROM content_release_proofs r
      WHERE r.sender_id = $1 AND NOT EXISTS (SELECT 1 FROM content_returns c WHERE c.transfer_key = r.transfer_key)
      ORDER BY r.transfer_key LIMIT 100`,
    [senderId],
  );
  return rows.map((r) => ({
    transferKey: r.transfer_key,
    flowKind: r.flow_kind,
    senderId: r.sender_id,
    receiverId: r.receiver_id,
    txId: r.tx_id,
    releaseProof: r.release_proof,
    offer:
      r.amount !== null && r.currency !== null
        ? { amount: Number(r.amount), currency: r.currency }
        : { itemId: r.item_id ?? '' },
    ...(r.digest !== null ? { digest: r.digest } : {}),
    seq: Number(r.seq),
  }));
}
