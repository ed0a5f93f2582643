// Clearing books only what the cards proved (docs/issuer-host.md, "Proofs at clearing"), on both
// backends. The adversary is a registered terminal: its key is genuine, its journal well chained, and
// what it says the cards did is invented. With the clearing key set the host checks every proof the
// journal carries against the transfer's terms before it books: (a) an invented transfer with random
// bytes as its acknowledgement, (b) a genuine acknowledgement reused for other terms or another card,
// (c) a genuine acknowledgement on a transfer whose amount was changed, (d) an invented refund with a
// forged abort or release proof: each refused whole with E_UPLOAD_PROOF, one clearing.proof alert
// naming the terminal, the entry and the flow, and no row of the ledger or the uploads changed. The
// honest path is booked as before: the fixture's genuine proofs, real simulated cards through the
// settlement engine, and an honest journal's damaged copies that it set aside itself.
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/connection.js';
import { readUploadBatch } from '../../db/journal-upload.js';
import { JournalUploader } from '../../electron/services/host-link/journal-uploader.js';
import { TransferProofVerifier } from '../../issuer-host/clearing/clearing-keys.js';
import { loadHostConfig } from '../../issuer-host/config.js';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import { toHex } from '../../protocol/bytes.js';
import { isTerminalError } from '../../protocol/errors.js';
import { CLEARING_UPLOAD_PATH, type UploadResponse } from '../../protocol/host-link/clearing-wire.js';
import type { HostClient } from '../../protocol/host-link/host-client.js';
import { makeTerminal } from '../support/terminal-fixtures.js';
import {
  cardId,
  FIXTURE_CLEARING_KEYS,
  FIXTURE_CURRENCY,
  FIXTURE_DATE,
  fixtureVerifier,
  genuineProofs,
  journalTransfer,
  openTestJournal,
  removeTestJournals,
  type TestJournal,
} from './clearing-fixtures.js';
import { BACKENDS, expectRefusal, useHostDatabases } from './host-db-fixtures.js';
import {
  CLEARING_TABLES,
  issuerWorld,
  plainClient,
  type RunningHost,
  registeredTerminal,
  staffToken,
  startHost,
} from './host-fixtures.js';

const dbs = useHostDatabases();
const world = issuerWorld('Clearing Proofs Test');
const folders: string[] = [];
afterAll(() => {
  removeTestJournals();
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

const rand = () => toHex(randomBytes(16));

interface Till {
  terminalId: string;
  client: HostClient;
  j: TestJournal;
  sent: number;
  upload(): Promise<UploadResponse>;
}

/**
 * A flow as a hostile terminal journals it: the steps it likes, with the payloads it likes, well
 * chained by its own log. `started` carries the terms (and, as a flow adopted from a card does, both
 * randoms, so that no credit-initiated entry is needed before the proof under test).
 */
function journalFlow(
  j: TestJournal,
  terms: { payerId: string; payeeId: string; amount: number; txRandom: string; rxRandom: string },
  steps: [string, Record<string, unknown>][],
  origin = 'found-on-card',
): string {
  const flowId = randomUUID();
  j.journal.append({
    flowId,
    flowKind: 'value-transfer',
    step: 'started',
    payload: {
      origin,
      payerId: terms.payerId,
      payeeId: terms.payeeId,
      amount: terms.amount,
      currency: FIXTURE_CURRENCY,
      date: FIXTURE_DATE,
      txRandom: terms.txRandom,
      rxRandom: terms.rxRandom,
      keyUpdates: [],
    },
  });
  for (const [step, payload] of steps)
    j.journal.append({ flowId, flowKind: 'value-transfer', step, payload });
  return flowId;
}

/** A flow journaled as the engine does, from its `started` entry: `append` adds the next steps. */
function engineFlow(j: TestJournal, terms: { payerId: string; payeeId: string; amount: number }) {
  const flowId = randomUUID();
  const append = (step: string, payload: Record<string, unknown>) =>
    j.journal.append({ flowId, flowKind: 'value-transfer', step, payload });
  append('started', { ...terms, currency: FIXTURE_CURRENCY, date: FIXTURE_DATE, keyUpdates: [] });
  return { flowId, append };
}

/** Every row of the ledger and the uploads (migrations 003-005), to compare before and after. */
async function clearingRows(db: HostDatabase): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of CLEARING_TABLES) out[table] = await db.query(`SELECT * FROM ${table} ORDER BY 1, 2`);
  return out;
}

async function counts(db: HostDatabase): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of CLEARING_TABLES) {
    const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    out[table] = row!.n;
  }
  return out;
}

async function balanceOf(db: HostDatabase, kind: string, ref: string): Promise<bigint> {
  const rows = await db.query<{ balance: string | bigint }>(
    'SELECT balance::bigint AS balance FROM ledger_balances WHERE kind = $1 AND ref = $2',
    [kind, ref],
  );
  return rows.length === 0 ? 0n : BigInt(rows[0]!.balance);
}

async function phases(db: HostDatabase): Promise<string[]> {
  const rows = await db.query<{ phase: string }>('SELECT phase FROM ledger_transfers ORDER BY transfer_id');
  return rows.map((r) => r.phase);
}

async function alerts(db: HostDatabase, kind = 'clearing.proof') {
  return db.query<{ subject: string; severity: string; detail: Record<string, unknown> }>(
    'SELECT subject, severity, detail FROM audit_events WHERE kind = $1 ORDER BY event_id',
    [kind],
  );
}

describe.each(BACKENDS)('proofs at clearing on %s', (backend) => {
  let db: HostDatabase;
  let host: RunningHost;
  let honest: Till;
  let hostile: Till;
  const alice = cardId();
  const shop = cardId();
  const mallory = cardId();

  const till = async (terminalId: string): Promise<Till> => {
    const client = plainClient(host, world, await registeredTerminal(db, terminalId, 'shop-1'));
    const t: Till = {
      terminalId,
      client,
      j: openTestJournal(),
      sent: 0,
      upload: async () => {
        const answer = await client.call<UploadResponse>('POST', CLEARING_UPLOAD_PATH, t.j.batch(t.sent));
        t.sent = answer.lastSeq;
        return answer;
      },
    };
    return t;
  };

  beforeEach(async () => {
    db = await dbs.fresh(backend);
    host = await startHost({ db, world, clearingKeys: fixtureVerifier() });
    honest = await till('till-honest');
    hostile = await till('till-hostile');
  });
  afterEach(async () => {
    honest.j.close();
    hostile.j.close();
    await host.close();
  });

  /** The upload is refused with E_UPLOAD_PROOF at this entry, and nothing of clearing changed. */
  async function expectProofRefused(t: Till, flowId: string, step: string, proof: string) {
    const at = { seq: seqOf(t, flowId, step), flowId, step, proof };
    const before = await clearingRows(db);
    const beforeCounts = await counts(db);
    const alertsBefore = (await alerts(db)).length;
    const answer = await expectRefusal(t.upload(), 'E_UPLOAD_PROOF');
    expect(answer.details.status).toBe(409);
    expect(answer.message).toContain(`entry ${at.seq} `);
    expect(answer.message).toContain(at.flowId);
    expect(await counts(db)).toEqual(beforeCounts);
    expect(await clearingRows(db)).toEqual(before);
    const raised = (await alerts(db)).slice(alertsBefore);
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({
      subject: t.terminalId,
      severity: 'alert',
      detail: { code: 'E_UPLOAD_PROOF', seq: at.seq, flowId: at.flowId, step: at.step, proof: at.proof },
    });
  }

  /** The first value of a payload key in a flow's entries. */
  const journaled = (t: Till, flowId: string, key: string): string => {
    const found = t.j.journal
      .entriesForFlow(flowId)
      .map((e) => (e.payload as Record<string, unknown>)[key])
      .find((v) => typeof v === 'string');
    if (typeof found !== 'string') throw new Error(`no ${key} in ${flowId}`);
    return found;
  };

  const seqOf = (t: Till, flowId: string, step: string): number => {
    const entry = t.j.journal.entriesForFlow(flowId).find((e) => e.step === step);
    if (!entry) throw new Error(`no ${step} in ${flowId}`);
    return entry.seq;
  };

  it('books genuine transfers as before, one transfer across terminals, and says it checks proofs', async () => {
    journalTransfer(honest.j, { payerId: alice, payeeId: shop, amount: 250 });
    journalTransfer(honest.j, { payerId: alice, payeeId: shop, amount: 40 }, 'refunded');
    journalTransfer(honest.j, { payerId: alice, payeeId: shop, amount: 99 }, 'rolled-back');
    const { txRandom } = journalTransfer(honest.j, { payerId: alice, payeeId: shop, amount: 70 }, 'in-doubt');
    await honest.upload();
    expect(await phases(db)).toEqual(['pending', 'post', 'pending', 'void', 'pending']);
    // The in-doubt one completed at another terminal (adopted from the card there).
    journalTransfer(
      hostile.j,
      { payerId: alice, payeeId: shop, amount: 70, txRandom },
      'completed',
      'found-on-card',
    );
    await hostile.upload();
    expect(await phases(db)).toEqual(['pending', 'post', 'pending', 'void', 'pending', 'post']);
    expect(await balanceOf(db, 'card', alice)).toBe(-320n);
    expect(await balanceOf(db, 'card', shop)).toBe(320n);
    expect(await balanceOf(db, 'in-flight', 'shop-1')).toBe(0n);
    const [kept] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM release_proofs');
    expect(kept!.n).toBe(1);
    expect(await alerts(db)).toEqual([]);

    const auditor = await staffToken(db, 'auditor');
    const status = await fetch(`${host.url}/admin/clearing/status`, {
      headers: { authorization: `Bearer ${auditor}` },
    }).then((r) => r.json());
    expect(status).toMatchObject({ proofs: 'verified', keyIds: [1] });
  });

  it('(a) refuses an invented transfer whose acknowledgement is random bytes, and the genuine one beside it', async () => {
    journalTransfer(hostile.j, { payerId: alice, payeeId: shop, amount: 250 }); // genuine, same upload
    const terms = { payerId: shop, payeeId: mallory, amount: 9_000, txRandom: rand(), rxRandom: rand() };
    const flowId = journalFlow(hostile.j, terms, [
      ['credited', { ack: rand(), payeeSettled: true }],
      ['completed', { payerSettled: true }],
    ]);
    await expectProofRefused(hostile, flowId, 'credited', 'ack');
    expect(await phases(db)).toEqual([]);
  });

  it('(a) refuses an invented transfer journaled as the engine does, at its first proof', async () => {
    const terms = { payerId: shop, payeeId: mallory, amount: 9_000, txRandom: rand(), rxRandom: rand() };
    const { flowId, append } = engineFlow(hostile.j, terms);
    append('credit-initiated', { txRandom: terms.txRandom, rxRandom: terms.rxRandom, challenge: rand() });
    append('debited', { receptionChallenge: rand() });
    append('credited', { ack: rand(), payeeSettled: true });
    append('completed', { payerSettled: true });
    await expectProofRefused(hostile, flowId, 'credit-initiated', 'challenge');
  });

  it.each([
    ['another payee card', { payeeId: 'mallory' }],
    ['another amount', { amount: 2_500 }],
    ['another transaction random', { txRandom: 'fresh' }],
    ['another reception random', { rxRandom: 'fresh' }],
  ])('(b) refuses a genuine acknowledgement reused for %s', async (_, change) => {
    const genuine = { payerId: alice, payeeId: shop, amount: 250, txRandom: rand(), rxRandom: rand() };
    const { ack } = genuineProofs(genuine);
    const other = {
      ...genuine,
      ...('payeeId' in change ? { payeeId: mallory } : {}),
      ...('amount' in change ? { amount: change.amount } : {}),
      ...('txRandom' in change ? { txRandom: rand() } : {}),
      ...('rxRandom' in change ? { rxRandom: rand() } : {}),
    };
    const flowId = journalFlow(hostile.j, other, [
      ['credited', { ack, payeeSettled: true }],
      ['completed', { payerSettled: true }],
    ]);
    await expectProofRefused(hostile, flowId, 'credited', 'ack');
  });

  it('(c) refuses a genuine transfer whose amount was changed in an otherwise well-chained journal', async () => {
    // The honest till books the real transfer of 250.
    const { txRandom, flowId: real } = journalTransfer(honest.j, {
      payerId: alice,
      payeeId: shop,
      amount: 250,
    });
    await honest.upload();
    const booked = await clearingRows(db);
    expect(await balanceOf(db, 'card', shop)).toBe(250n);

    // The hostile till journals the same transfer, with its genuine proofs of 250, for 2,500.
    const proof = (key: string) => journaled(honest, real, key);
    const { flowId, append } = engineFlow(hostile.j, { payerId: alice, payeeId: shop, amount: 2_500 });
    append('credit-initiated', { txRandom, rxRandom: proof('rxRandom'), challenge: proof('challenge') });
    append('debited', { receptionChallenge: proof('receptionChallenge') });
    append('credited', { ack: proof('ack'), payeeSettled: true });
    append('completed', { payerSettled: true });
    await expectProofRefused(hostile, flowId, 'credit-initiated', 'challenge');
    expect(await clearingRows(db)).toEqual(booked);
  });

  it.each([
    ['a forged abort proof', 'aborted', 'abortProof'],
    ['a forged release proof', 'released', 'releaseProof'],
  ])(
    '(d) refuses an invented refund with %s of a transfer another terminal completed',
    async (_, step, field) => {
      const { txRandom, flowId: real } = journalTransfer(honest.j, {
        payerId: alice,
        payeeId: shop,
        amount: 250,
      });
      await honest.upload();
      const booked = await clearingRows(db);
      const rxRandom = journaled(honest, real, 'rxRandom');
      const flowId = journalFlow(
        hostile.j,
        { payerId: alice, payeeId: shop, amount: 250, txRandom, rxRandom },
        [
          [step, { txRandom, rxRandom, [field]: rand(), payerSettled: true }],
          [step === 'aborted' ? 'rolled-back' : 'refunded', { payerSettled: true }],
        ],
      );
      await expectProofRefused(hostile, flowId, step, field);
      expect(await clearingRows(db)).toEqual(booked);
      expect(await balanceOf(db, 'card', alice)).toBe(-250n);
      const [exceptions] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM ledger_exceptions');
      expect(exceptions!.n).toBe(0);
    },
  );

  it("books an honest journal's damaged proofs only once it set them aside itself", async () => {
    const terms = { payerId: alice, payeeId: shop, amount: 120, txRandom: rand(), rxRandom: rand() };
    const proofs = genuineProofs(terms);
    const damaged = `${proofs.ack.slice(0, 30)}${proofs.ack.slice(30) === '00' ? '01' : '00'}`;
    const { flowId, append } = engineFlow(honest.j, { payerId: alice, payeeId: shop, amount: 120 });
    append('credit-initiated', {
      txRandom: terms.txRandom,
      rxRandom: terms.rxRandom,
      challenge: proofs.challenge,
    });
    append('debited', { receptionChallenge: proofs.receptionChallenge });
    append('credited', { ack: damaged, payeeSettled: true });
    // Uploaded before the terminal knew: refused, as a hostile one would be.
    await expectProofRefused(honest, flowId, 'credited', 'ack');
    // The payer refused it; recovery read the payee's record again and completed.
    append('ack-refused', { refusedAck: damaged, code: 'E_CARD_STATUS', sw: 0x6982, slot: 'payer' });
    append('credited', { ack: proofs.ack, correctedFromCard: true });
    append('completed', { payerSettled: true });
    await honest.upload();
    expect(await phases(db)).toEqual(['pending', 'post']);
    expect(await balanceOf(db, 'card', shop)).toBe(120n);

    // A transmission challenge damaged on its way: the payer refused to debit and proved it never will.
    const t2 = { payerId: alice, payeeId: shop, amount: 30, txRandom: rand(), rxRandom: rand() };
    const p2 = genuineProofs(t2);
    const { append: add } = engineFlow(honest.j, {
      payerId: alice,
      payeeId: shop,
      amount: 30,
    });
    add('credit-initiated', { txRandom: t2.txRandom, rxRandom: t2.rxRandom, challenge: rand() });
    add('aborted', { abortProof: p2.abortProof, payerSettled: true });
    add('rolled-back', { code: 'E_CARD_STATUS', payeeSettled: true });
    // A release proof someone handed the terminal to deliver, forged: not its cards' word.
    journalFlow(
      honest.j,
      { payerId: alice, payeeId: shop, amount: 500, txRandom: rand(), rxRandom: rand() },
      [['released', { releaseProof: rand(), payeeSettled: true }]],
      'delivered',
    );
    await honest.upload();
    expect(await phases(db)).toEqual(['pending', 'post', 'pending', 'void']);
    const [kept] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM release_proofs');
    expect(kept!.n).toBe(0);
    expect(await balanceOf(db, 'card', alice)).toBe(-120n);
  });

  it("the terminal's uploader sends what precedes a damaged proof, then the batch that sets it aside", async () => {
    journalTransfer(honest.j, { payerId: alice, payeeId: shop, amount: 60 }); // seq 1-5
    const terms = { payerId: alice, payeeId: shop, amount: 70, txRandom: rand(), rxRandom: rand() };
    const proofs = genuineProofs(terms);
    const { append } = engineFlow(honest.j, { payerId: alice, payeeId: shop, amount: 70 });
    append('credit-initiated', {
      txRandom: terms.txRandom,
      rxRandom: terms.rxRandom,
      challenge: proofs.challenge,
    });
    append('debited', { receptionChallenge: proofs.receptionChallenge });
    append('credited', { ack: rand(), payeeSettled: true }); // seq 9: the batch of 9 ends on it
    append('ack-refused', { code: 'E_CARD_STATUS', sw: 0x6982, slot: 'payer' });
    append('credited', { ack: proofs.ack, correctedFromCard: true });
    append('completed', { payerSettled: true });
    const uploader = new JournalUploader({ db: honest.j.db, client: honest.client, batchSize: 9 });
    const result = await uploader.sync();
    expect(result).toMatchObject({ ok: true, ackedSeq: 12, waiting: 0 });
    expect(await phases(db)).toEqual(['pending', 'post', 'pending', 'post']);
    expect(await balanceOf(db, 'card', shop)).toBe(130n);
  });

  it('books transfers made by real simulated cards through the settlement engine', async () => {
    const t = makeTerminal();
    const verifier = TransferProofVerifier.fromKeyFile({
      format: 1,
      issuerId: t.issuer.issuerId,
      transferKeys: t.issuer.transferKeys,
    });
    const real = await startHost({ db, world, clearingKeys: verifier });
    try {
      expect(await t.engine.transfer({ amount: 300 })).toMatchObject({ status: 'completed' });
      expect(await t.engine.transfer({ amount: 120, from: 'payee' })).toMatchObject({ status: 'completed' });
      const terminal = await registeredTerminal(db, 'till-real', 'shop-1');
      const log = openDatabase(t.dbPath);
      try {
        const batch = readUploadBatch(log, 0)!;
        const answer = await plainClient(real, world, terminal).call<UploadResponse>(
          'POST',
          CLEARING_UPLOAD_PATH,
          batch,
        );
        expect(answer.accepted).toBe(batch.entries.length);
      } finally {
        log.close();
      }
      expect(await phases(db)).toEqual(['pending', 'post', 'pending', 'post']);
      expect(await balanceOf(db, 'card', t.cards.payer.store.read().holderId)).toBe(-180n);
      expect(await balanceOf(db, 'card', t.cards.payee.store.read().holderId)).toBe(180n);
      expect(await balanceOf(db, 'in-flight', 'shop-1')).toBe(0n);
      expect(await alerts(db)).toEqual([]);
    } finally {
      await real.close();
    }
  });

  it('without a key set books what the chain says, and its status says so', async () => {
    const open = await startHost({ db, world });
    try {
      const terminal = await registeredTerminal(db, 'till-open', 'shop-1');
      const j = openTestJournal();
      journalFlow(j, { payerId: shop, payeeId: mallory, amount: 9_000, txRandom: rand(), rxRandom: rand() }, [
        ['credited', { ack: rand(), payeeSettled: true }],
      ]);
      await plainClient(open, world, terminal).call('POST', CLEARING_UPLOAD_PATH, j.batch());
      j.close();
      expect(await balanceOf(db, 'card', mallory)).toBe(9_000n);
      const auditor = await staffToken(db, 'auditor');
      const status = await fetch(`${open.url}/admin/clearing/status`, {
        headers: { authorization: `Bearer ${auditor}` },
      }).then((r) => r.json() as Promise<{ trusts: string }>);
      expect(status).toMatchObject({ proofs: 'not-verified', keyIds: [] });
      expect(status.trusts).toMatch(/without checking the cards' MACs/);
    } finally {
      await open.close();
    }
  });
});

describe('the clearing key set file', () => {
  const folder = () => {
    const dir = mkdtempSync(join(tmpdir(), 'clearing-keys-'));
    folders.push(dir);
    writeFileSync(join(dir, 'ca.pem'), Buffer.from(world.caDer));
    return dir;
  };
  const config = (dir: string, keyFile: unknown, mode = 0o600) => {
    writeFileSync(join(dir, 'keys.json'), typeof keyFile === 'string' ? keyFile : JSON.stringify(keyFile));
    chmodSync(join(dir, 'keys.json'), mode);
    writeFileSync(
      join(dir, 'host.json'),
      JSON.stringify({ caCertificate: 'ca.pem', plainHttp: true, clearing: { keySet: 'keys.json' } }),
    );
    return join(dir, 'host.json');
  };

  it('loads the keys into an object that shows only their IDs', () => {
    const settings = loadHostConfig(config(folder(), FIXTURE_CLEARING_KEYS));
    const verifier = settings.clearingKeys!;
    expect(verifier.keyIds).toEqual([1]);
    const key = FIXTURE_CLEARING_KEYS.transferKeys['1']!;
    expect(JSON.stringify(settings)).not.toContain(key);
    expect(inspect(settings, { depth: 10 })).not.toContain(key);
    expect(inspect(verifier, { showHidden: true })).not.toContain(key);
  });

  it.each([
    ['readable by others', FIXTURE_CLEARING_KEYS, 0o644, /chmod 600/],
    ['not JSON', '{ "format": 1,', 0o600, /is not JSON/],
    ['without keys', { ...FIXTURE_CLEARING_KEYS, transferKeys: {} }, 0o600, /is not valid/],
    ['with a short key', { ...FIXTURE_CLEARING_KEYS, transferKeys: { '1': '00' } }, 0o600, /is not valid/],
    [
      'with a key ID 0',
      { ...FIXTURE_CLEARING_KEYS, transferKeys: { '0': '00'.repeat(16) } },
      0o600,
      /is not valid/,
    ],
    ['with an unknown field', { ...FIXTURE_CLEARING_KEYS, caPrivateKey: '00' }, 0o600, /is not valid/],
  ])('refuses a key file %s, naming the file and never a key', (_, file, mode, message) => {
    const path = config(folder(), file, mode);
    let error: unknown;
    try {
      loadHostConfig(path);
    } catch (e) {
      error = e;
    }
    expect(isTerminalError(error, 'E_INPUT_INVALID')).toBe(true);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain('keys.json');
    expect((error as Error).message).not.toContain(FIXTURE_CLEARING_KEYS.transferKeys['1']!);
  });

  it('refuses a key set of another issuer than the authority key', () => {
    const dir = folder();
    const path = config(dir, FIXTURE_CLEARING_KEYS);
    writeFileSync(
      join(dir, 'authority.json'),
      JSON.stringify({ format: 1, issuerId: '0'.repeat(32), authorityPrivateKey: '1'.repeat(64) }),
    );
    writeFileSync(
      path,
      JSON.stringify({
        caCertificate: 'ca.pem',
        plainHttp: true,
        authority: { key: 'authority.json' },
        clearing: { keySet: 'keys.json' },
      }),
    );
    expect(() => loadHostConfig(path)).toThrow(/another|issuer/);
  });
});
