// Content release proofs through the issuer host (docs/issuer-host.md, "Release proofs"), on both
// backends, with real simulated cards: a send interrupted after the sender committed it, its receiver
// alone at terminal B (which adopts and releases it); B's upload makes the host keep the proof, which
// it serves to any registered terminal asking for the sender card, and to nobody for another card,
// nor to an unauthenticated caller; once an upload says the sender took it back, it is served no more.
// Adversary: a registered terminal that uploads the flow with a forged release proof is refused whole
// (nothing kept, nothing served); one whose proof cannot be checked (the receiver's certificate left
// out) is taken but the proof is not kept.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContentEngine } from '../../electron/services/contents/content-engine.js';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import {
  CONTENT_RELEASE_PROOFS_PATH,
  contentReleaseProofSchema,
} from '../../protocol/host-link/clearing-wire.js';
import { INS } from '../../protocol/settlement/commands.js';
import { arm, presentAgain } from '../support/card-faults.js';
import { TEST_PIN } from '../support/card-fixtures.js';
import { makeTerminal, type TerminalUnderTest, terminalRecovery } from '../support/terminal-fixtures.js';
import { removeTestJournals } from './clearing-fixtures.js';
import {
  balanceOf,
  batchOf,
  ContentClearingHost,
  clearingRows,
  copyFlow,
  legs,
  rand,
  seqIn,
} from './content-clearing-fixtures.js';
import { BACKENDS, useHostDatabases } from './host-db-fixtures.js';

const dbs = useHostDatabases();
afterAll(() => removeTestJournals());
const START = 5_000;

describe.each(BACKENDS)('content release proofs at the host on %s', (backend) => {
  let db: HostDatabase;
  let clearing: ContentClearingHost;
  let a: TerminalUnderTest;
  let contents: ContentEngine;
  let ids: { sender: string; receiver: string };

  beforeEach(async () => {
    db = await dbs.fresh(backend);
    a = makeTerminal({ payer: { balance: START }, payee: { balance: 0 } });
    contents = new ContentEngine(a.engine, { journal: a.journal, flows: a.flows, slots: a.slots });
    await a.engine.login('payer', TEST_PIN);
    await contents.authenticate();
    ids = { sender: a.cards.payer.store.read().holderId, receiver: a.cards.payee.store.read().holderId };
    clearing = await ContentClearingHost.open(db, a.issuer);
  });
  afterEach(() => clearing.close());

  /**
   * A send of 1,500 released by its receiver alone at B: by default one the sender committed (its
   * answer lost); or one it never committed (the receiver's answer to CONTENT RECEIVE lost).
   */
  async function releasedAtB(lost: 'commit' | 'receive' = 'commit') {
    if (lost === 'commit') arm(a, 'payer', INS.CONTENT_COMMIT, 'pulled-after');
    else arm(a, 'payee', INS.CONTENT_RECEIVE, 'pulled-after');
    expect(await contents.send({ from: 'payer', amount: 1_500 })).toMatchObject({ status: 'interrupted' });
    a.slots.remove('payee');
    const b = makeTerminal({ issuer: a.issuer });
    for (const s of ['payer', 'payee'] as const) b.slots.remove(s);
    b.slots.insert('payee', a.cards.payee.os);
    await terminalRecovery(b).run();
    const flow = b.journal.entriesForFlow(b.flows.all().at(-1)!.flowId);
    expect(flow.map((e) => e.step)).toEqual(['started', 'released']);
    b.slots.remove('payee');
    return { b, flow, txId: String(flow[0]!.payload.txId) };
  }

  it('serves a verified proof to any terminal for the sender card only, until an upload says the sender took it back', async () => {
    const { b, flow, txId } = await releasedAtB();
    await clearing.upload('till-b', batchOf(b));
    const served = await clearing.contentReleaseProofs('till-c', ids.sender);
    expect(served).toEqual([
      {
        kind: 'send',
        senderId: ids.sender,
        receiverId: ids.receiver,
        txId,
        releaseProof: flow[1]!.payload.releaseProof,
        offer: { amount: 1_500, currency: a.cards.payee.store.read().currency },
        digest: flow[0]!.payload.digest,
      },
    ]);
    expect(contentReleaseProofSchema.parse(served[0])).toEqual(served[0]);
    expect(await clearing.contentReleaseProofs('till-c', ids.sender.toLowerCase())).toEqual(served);
    // Another card's query (the receiver's own, a stranger's) gets nothing.
    expect(await clearing.contentReleaseProofs('till-c', ids.receiver)).toEqual([]);
    expect(await clearing.contentReleaseProofs('till-c', rand())).toEqual([]);
    // Nobody else: an unauthenticated caller is refused, and nothing changed.
    const before = await clearingRows(db);
    const anonymous = await fetch(`${clearing.host.url}${CONTENT_RELEASE_PROOFS_PATH}?card=${ids.sender}`);
    expect(anonymous.status).toBe(401);
    expect(JSON.stringify(await anonymous.json())).not.toContain(txId);
    expect(await clearingRows(db)).toEqual(before);
    // The leg was voided on the proof at B: the proof is kept apart from the ledger.
    expect((await legs(db)).map((l) => l.phase)).toEqual(['pending', 'void']);

    // The sender and receiver back at A: the sender takes the proof back there; A uploads.
    presentAgain(a);
    await contents.recover();
    expect(a.balances()).toEqual({ payer: START, payee: 0 });
    await clearing.upload('till-a', batchOf(a));
    expect(await clearing.contentReleaseProofs('till-c', ids.sender)).toEqual([]);
    const [closed] = await db.query<{ how: string; terminal_id: string }>('SELECT * FROM content_returns');
    expect(closed).toMatchObject({ how: 'returned', terminal_id: 'till-a' });
    // One leg, voided once, no exception.
    expect((await legs(db)).map((l) => l.phase)).toEqual(['pending', 'void']);
    expect(await balanceOf(db, 'card', ids.sender)).toBe(0n);
    expect(await db.query('SELECT * FROM ledger_exceptions')).toEqual([]);
  });

  it('a sender that aborted its transfer (its abort proof uploaded, verified) needs the proof no more', async () => {
    const { b, txId } = await releasedAtB('receive');
    await clearing.upload('till-b', batchOf(b));
    expect(await clearing.contentReleaseProofs('till-c', ids.sender)).toMatchObject([{ txId }]);
    // Both cards back at A: the sender's transfer was never committed, so recovery aborts it.
    presentAgain(a);
    await contents.recover();
    expect(a.balances()).toEqual({ payer: START, payee: 0 });
    const own = a.journal.entriesForFlow(a.flows.all().at(-1)!.flowId);
    expect(own.at(-1)).toMatchObject({ step: 'rolled-back', payload: { abortProof: expect.any(String) } });
    await clearing.upload('till-a', batchOf(a));
    expect(await clearing.contentReleaseProofs('till-c', ids.sender)).toEqual([]);
    expect(await db.query('SELECT how, terminal_id FROM content_returns')).toEqual([
      { how: 'aborted', terminal_id: 'till-a' },
    ]);
  });

  it('never keeps a proof that does not verify: a forged one refuses the upload, an uncheckable one is not kept', async () => {
    const { flow } = await releasedAtB();
    const forged = clearing.journal();
    const forgedFlow = copyFlow(forged, flow, (step, p) =>
      step === 'released' ? { ...p, releaseProof: rand(70) } : p,
    );
    await clearing.expectRefused(forged.batch(), {
      seq: seqIn(forged, forgedFlow, 'released'),
      step: 'released',
      proof: 'releaseProof',
    });
    expect(await clearing.contentReleaseProofs('till-c', ids.sender)).toEqual([]);

    // The genuine proof without the receiver's certificate: nothing to check it with, so not kept.
    const uncheckable = clearing.journal();
    copyFlow(uncheckable, flow, (_step, p) => {
      delete p.receiverCertificate;
      return p;
    });
    await clearing.upload('till-x', uncheckable.batch());
    expect(await clearing.contentReleaseProofs('till-c', ids.sender)).toEqual([]);
    expect(await db.query('SELECT * FROM content_release_proofs')).toEqual([]);
  });

  it('the table refuses a row that could not be: a proof under another key, an offer of both kinds, an edit', async () => {
    const { b } = await releasedAtB();
    await clearing.upload('till-b', batchOf(b));
    const [row] = await db.query<Record<string, unknown>>('SELECT * FROM content_release_proofs');
    const insert = (r: Record<string, unknown>) =>
      db.query(
        `INSERT INTO content_release_proofs (transfer_key, flow_kind, sender_id, receiver_id, tx_id, release_proof,
           amount, currency, item_id, digest, terminal_id, seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
          r.transfer_key,
          r.flow_kind,
          r.sender_id,
          r.receiver_id,
          r.tx_id,
          r.release_proof,
          r.amount,
          r.currency,
          r.item_id,
          r.digest,
          r.terminal_id,
          r.seq,
        ],
      );
    const before = await clearingRows(db);
    // Another transfer of the same sender, each time with one thing wrong.
    const txId = rand().toUpperCase();
    const moved = { ...row, tx_id: txId, transfer_key: `${row!.sender_id}:${txId}` };
    await expect(
      insert({ ...moved, transfer_key: `${row!.sender_id}:${rand().toUpperCase()}` }),
    ).rejects.toThrow();
    await expect(insert({ ...moved, item_id: '' })).rejects.toThrow(); // value and item both
    await expect(insert({ ...moved, amount: null })).rejects.toThrow(); // a currency without an amount
    await expect(insert({ ...moved, receiver_id: row!.sender_id })).rejects.toThrow();
    await expect(insert({ ...moved, release_proof: 'zz' })).rejects.toThrow();
    await expect(
      db.query('UPDATE content_release_proofs SET release_proof = $1', [rand(70)]),
    ).rejects.toThrow();
    await expect(db.query('DELETE FROM content_release_proofs')).rejects.toThrow();
    expect(await clearingRows(db)).toEqual(before);
  });
});
