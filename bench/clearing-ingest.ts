// Benchmark: clearing ingestion at the issuer host, against a plain COPY of the same rows.
//
//   npx tsx bench/clearing-ingest.ts [--entries 20000] [--terminals 4] [--batch 500] [--proofs on|off]
//
// Real terminal journals (db/, on /dev/shm so building them is not the benchmark) of completed value
// transfers (five entries each) are read as uploads (db/journal-upload.ts) and sent to two host
// instances (createHostServer, plain HTTP on loopback, each its own pg pool) on one PostgreSQL server
// started by the test harness (fsync off, as in the tests): the terminals upload in parallel, each
// its batches one after another, alternating between the two instances. Each upload is what a real
// one costs: the signed request checked, the chain recomputed, entries stored, every transfer booked
// in the ledger (pending and post), one transaction; with --proofs on (the default) the hosts hold the
// issuer's clearing key set and check each transfer's card proofs (TC, RC, ACK: genuine MACs of the
// issuer's transfer key) before booking, as a configured host does. The floor is `COPY … FROM` a file of the same
// rows (clearing_entries' columns, a primary key, no other index, trigger or foreign key) into a
// plain table on the same server: what storing the bytes alone costs.

import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createIssuer } from '../card-sim/issuer/issuer.js';
import type { IssuerState } from '../card-sim/issuer/issuer-state.js';
import { openDatabase } from '../db/connection.js';
import { Journal } from '../db/journal.js';
import { readUploadBatch } from '../db/journal-upload.js';
import { TransferProofVerifier } from '../issuer-host/clearing/clearing-keys.js';
import { type HostDatabase, openHostDatabase } from '../issuer-host/db/host-database.js';
import { TerminalRegistry } from '../issuer-host/db/terminal-registry.js';
import { createHostServer } from '../issuer-host/server/host-server.js';
import { fromHex, toHex } from '../protocol/bytes.js';
import { generateP256KeyPair } from '../protocol/crypto-suite.js';
import { CLEARING_UPLOAD_PATH, type UploadRequest } from '../protocol/host-link/clearing-wire.js';
import { HostClient } from '../protocol/host-link/host-client.js';
import { MAC_LABEL, type MacLabel, transferMac } from '../protocol/settlement/mac-input.js';
import { startPostgres } from '../test/support/postgres-harness.js';
import {
  closingLines,
  formatCount,
  intOption,
  markdownTable,
  NO_NETWORK,
  publishSection,
  RESULTS_OPTION,
  runBenchmark,
  startRun,
} from './kit.js';

const OPTIONS = {
  entries: 'journal entries in all (default 20000; five per transfer)',
  terminals: 'terminals uploading in parallel (default 4)',
  batch: 'entries per upload (default 500)',
  proofs:
    "on (default): the hosts check the cards' proofs with the clearing key set; off: they book on the chain's word",
  results: RESULTS_OPTION,
};

async function main(options: Map<string, string>): Promise<void> {
  const total = intOption(options, 'entries', 20_000, 10);
  const terminalCount = intOption(options, 'terminals', 4);
  const batchSize = intOption(options, 'batch', 500);
  const proofs = options.get('proofs') ?? 'on';
  if (proofs !== 'on' && proofs !== 'off') throw new Error('--proofs is on or off');
  const run = startRun();
  const issuer = createIssuer({ name: 'Bench', currency: 978 });
  const shm = mkdtempSync('/dev/shm/clearing-bench-');
  const pg = await startPostgres();
  const opened: HostDatabase[] = [];
  try {
    // The terminals' journals.
    const perTerminal = Math.ceil(total / terminalCount / 5);
    const terminals = Array.from({ length: terminalCount }, (_, i) => ({
      id: `till-${i + 1}`,
      keys: generateP256KeyPair(),
      batches: [] as UploadRequest[],
    }));
    const built = performance.now();
    for (const t of terminals) {
      const db = openDatabase(join(shm, `${t.id}.db`));
      const journal = new Journal(db);
      for (let n = 0; n < perTerminal; n++) journalTransfer(journal, issuer, 100 + n);
      for (let after = 0; ; ) {
        const batch = readUploadBatch(db, after, batchSize);
        if (!batch) break;
        t.batches.push(batch);
        after = batch.entries.at(-1)!.seq;
      }
      db.close();
    }
    const entries = terminals.reduce((n, t) => n + t.batches.reduce((m, b) => m + b.entries.length, 0), 0);
    console.error(
      `built ${formatCount(entries)} entries in ${((performance.now() - built) / 1000).toFixed(1)} s`,
    );

    // One database, two host instances.
    const url = await pg.createDatabase();
    const caDer = fromHex(issuer.caCertificate);
    const dbs = [await openHostDatabase({ url }), await openHostDatabase({ url })];
    opened.push(...dbs);
    const registry = new TerminalRegistry(dbs[0]!);
    await registry.createShop({ shopId: 'shop-1', name: 'Bench shop', actor: 'cli' });
    for (const t of terminals) {
      await registry.register({
        terminalId: t.id,
        shopId: 'shop-1',
        publicKey: t.keys.publicKey,
        actor: 'cli',
      });
    }
    const apps = await Promise.all(
      dbs.map(async (db) => {
        const app = await createHostServer({
          db,
          caCertificateDer: caDer,
          uploadBodyBytes: 16 * 1024 * 1024,
          ...(proofs === 'on'
            ? {
                clearingKeys: TransferProofVerifier.fromKeyFile({
                  format: 1,
                  issuerId: issuer.issuerId,
                  transferKeys: issuer.transferKeys,
                }),
              }
            : {}),
        });
        await app.listen({ host: '127.0.0.1', port: 0 });
        return { app, url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` };
      }),
    );
    const clients = terminals.map((t) =>
      apps.map(
        (a) =>
          new HostClient({
            baseUrl: a.url,
            caCertificateDer: caDer,
            pins: [],
            allowPlainHttp: true,
            // A batch waits for the terminal's chain lock behind the other instance's: no short timeout.
            timeoutMs: 300_000,
            terminal: { terminalId: t.id, privateKey: t.keys.privateKey },
          }),
      ),
    );
    const started = performance.now();
    await Promise.all(
      terminals.map(async (t, i) => {
        for (const [b, batch] of t.batches.entries()) {
          await clients[i]![b % 2]!.call('POST', CLEARING_UPLOAD_PATH, batch);
        }
      }),
    );
    const ingestSeconds = (performance.now() - started) / 1000;
    const [counts] = await dbs[0]!.query<{ entries: number; transfers: number }>(
      `SELECT (SELECT count(*)::int FROM clearing_entries) AS entries, (SELECT count(*)::int FROM ledger_transfers) AS transfers`,
    );
    if (counts!.entries !== entries)
      throw new Error(`the host holds ${counts!.entries} entries, not ${entries}`);
    if (counts!.transfers !== 2 * perTerminal * terminalCount)
      throw new Error(`the ledger holds ${counts!.transfers} rows, not a pending and a post per transfer`);
    for (const c of clients.flat()) c.close();
    for (const a of apps) await a.app.close();

    // The floor: COPY of the same rows into a plain table.
    const rows = await dbs[0]!.query<Record<string, unknown>>(
      `SELECT terminal_id, seq, upload_id, flow_no, link_flow_id, link_flow_text, link_kind, record, chain_hash,
              flow_id, flow_kind, step, at FROM clearing_entries`,
    );
    await dbs[0]!.exec(`CREATE TABLE copy_floor (
      terminal_id text, seq bigint, upload_id bigint, flow_no bigint, link_flow_id bytea, link_flow_text text,
      link_kind smallint, record bytea, chain_hash bytea, flow_id text, flow_kind text, step text, at timestamptz,
      PRIMARY KEY (terminal_id, seq))`);
    const file = join(shm, 'rows.csv');
    const cell = (v: unknown) =>
      v === null
        ? ''
        : v instanceof Uint8Array
          ? `\\x${toHex(v)}`
          : v instanceof Date
            ? v.toISOString()
            : `"${String(v).replaceAll('"', '""')}"`;
    writeFileSync(file, rows.map((r) => Object.values(r).map(cell).join(',')).join('\n'));
    chmodSync(shm, 0o755);
    chmodSync(file, 0o644);
    const copyStarted = performance.now();
    await dbs[0]!.query(`COPY copy_floor FROM '${file}' WITH (FORMAT csv)`);
    const copySeconds = (performance.now() - copyStarted) / 1000;

    const ingestRate = entries / ingestSeconds;
    const copyRate = entries / copySeconds;
    const proofCost = measureProofChecks(issuer);
    const body = [
      '## Clearing ingestion — two host instances on one PostgreSQL, against COPY',
      '',
      markdownTable(
        [
          ['', 'entries', 'seconds', 'entries/s'],
          [
            `**uploads** (${terminalCount} terminals in parallel, batches of ${batchSize}, two instances, card proofs ${proofs === 'on' ? 'checked' : 'not checked'})`,
            formatCount(entries),
            ingestSeconds.toFixed(2),
            `**${formatCount(Math.round(ingestRate))}**`,
          ],
          [
            'COPY of the same rows into a plain table (floor)',
            formatCount(entries),
            copySeconds.toFixed(2),
            formatCount(Math.round(copyRate)),
          ],
          ['uploads ÷ COPY', '', '', `${(ingestRate / copyRate).toFixed(3)}×`],
        ],
        ['l', 'r', 'r', 'r'],
      ),
      '',
      `- an upload: signed request verified (P-256), body validated, chain recomputed (SHA-256 per entry), entries stored, ${proofs === 'on' ? "each transfer's card proofs checked with the clearing key set (TC, RC, ACK: three AES-CMACs under the issuer's transfer keys), " : ''}each transfer booked (pending then post: ${formatCount(counts!.transfers)} ledger rows), one transaction under the terminal's chain lock`,
      `- journals: ${formatCount(perTerminal)} completed value transfers per terminal (five entries each), real terminal logs read by db/journal-upload.ts; plain HTTP on loopback (no TLS)`,
      '- PostgreSQL 15 from the test harness (fsync off, synchronous commits), one database; COPY reads a CSV file on the server (bytea as hex)',
      `- one proof check in this process (verify: the MAC input built, AES-CMAC, constant-time compare): ${proofCost.genuine.toFixed(1)} µs for a genuine proof (the first key tried), ${proofCost.forged.toFixed(1)} µs for a forged one (all ${proofCost.keys} keys tried); three per transfer is ${((3 * proofCost.genuine * perTerminal * terminalCount) / 1e6).toFixed(2)} s of CPU for this run's ${formatCount(perTerminal * terminalCount)} transfers`,
      '- one run; the ratio is the figure to compare, timings are noisy on a shared machine',
      closingLines(run, NO_NETWORK),
    ].join('\n');
    publishSection(options, 'clearing-ingest', body);
  } finally {
    for (const db of opened) await db.close();
    await pg.stop();
    rmSync(shm, { recursive: true, force: true });
  }
}

/** µs per proof check (TransferProofVerifier.verify), genuine and forged, over 20,000 checks each. */
function measureProofChecks(issuer: IssuerState): { genuine: number; forged: number; keys: number } {
  const verifier = TransferProofVerifier.fromKeyFile({
    format: 1,
    issuerId: issuer.issuerId,
    transferKeys: issuer.transferKeys,
  });
  const terms = {
    payerId: randomBytes(16),
    payeeId: randomBytes(16),
    currency: 978,
    amount: 100,
    date: 1_765_000_000,
    txRandom: randomBytes(16),
    rxRandom: randomBytes(16),
  };
  const label = MAC_LABEL.CREDIT_ACKNOWLEDGEMENT;
  const genuine = transferMac(fromHex(issuer.transferKeys['1']!), label, { ...terms, transferKeyId: 1 });
  const forged = new Uint8Array(randomBytes(16));
  const time = (mac: Uint8Array) => {
    const n = 20_000;
    const started = performance.now();
    for (let i = 0; i < n; i++) verifier.verify(label, terms, mac);
    return ((performance.now() - started) * 1000) / n;
  };
  if (verifier.verify(label, terms, genuine) !== 1) throw new Error('the genuine proof does not verify');
  return { genuine: time(genuine), forged: time(forged), keys: verifier.keyIds.length };
}

/** A completed transfer as the engine journals it, with the MACs genuine cards of this issuer make. */
function journalTransfer(journal: Journal, issuer: IssuerState, amount: number): void {
  const flowId = randomUUID();
  const append = (step: string, payload: Record<string, unknown>) =>
    journal.append({ flowId, flowKind: 'value-transfer', step, payload });
  const terms = {
    transferKeyId: 1,
    payerId: randomBytes(16),
    payeeId: randomBytes(16),
    currency: 978,
    amount,
    date: 1_765_000_000,
    txRandom: randomBytes(16),
    rxRandom: randomBytes(16),
  };
  const mac = (label: MacLabel) => toHex(transferMac(fromHex(issuer.transferKeys['1']!), label, terms));
  append('started', {
    payerId: toHex(terms.payerId),
    payeeId: toHex(terms.payeeId),
    payerSerial: '01',
    payeeSerial: '02',
    amount,
    currency: terms.currency,
    date: terms.date,
    keyUpdates: [],
  });
  append('credit-initiated', {
    txRandom: toHex(terms.txRandom),
    rxRandom: toHex(terms.rxRandom),
    challenge: mac(MAC_LABEL.TRANSMISSION_CHALLENGE),
  });
  append('debited', { receptionChallenge: mac(MAC_LABEL.RECEPTION_CHALLENGE) });
  append('credited', { ack: mac(MAC_LABEL.CREDIT_ACKNOWLEDGEMENT), payeeSettled: true });
  append('completed', { payerSettled: true });
}

runBenchmark('bench/clearing-ingest.ts', OPTIONS, main);
