// Terminal journals for clearing tests: a real terminal log (db/) in a temporary folder, value
// transfers journaled with the steps and payloads the settlement engine writes (docs/journal.md,
// "value-transfer") and the proofs genuine cards make (the MACs of protocol §4.3 under the fixture's
// transfer key, which a host given FIXTURE_CLEARING_KEYS verifies), and its entries read as uploads
// (db/journal-upload.ts).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type TerminalDatabase } from '../../db/connection.js';
import { type FlowFacts, Journal } from '../../db/journal.js';
import { decodeRecord, encodePayload, encodeRecord, storedStep } from '../../db/journal-codec.js';
import { readUploadBatch } from '../../db/journal-upload.js';
import { type ClearingKeyFile, TransferProofVerifier } from '../../issuer-host/clearing/clearing-keys.js';
import { fromHex, toHex } from '../../protocol/bytes.js';
import type { UploadEntry, UploadRequest } from '../../protocol/host-link/clearing-wire.js';
import { MAC_LABEL, type MacLabel, transferMac, ZERO_RANDOM } from '../../protocol/settlement/mac-input.js';

export interface TestJournal {
  db: TerminalDatabase;
  journal: Journal;
  path: string;
  /** Entries after `afterSeq` as an upload (throws when there are none). */
  batch(afterSeq?: number, limit?: number): UploadRequest;
  /** A copy of the log as it is now (a backup), opened. */
  copy(): TestJournal;
  close(): void;
}

const folders: string[] = [];

export function openTestJournal(path?: string, start = Date.UTC(2026, 11, 6, 9)): TestJournal {
  let file = path;
  if (file === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'clearing-journal-'));
    folders.push(dir);
    file = join(dir, 'terminal.db');
  }
  const db = openDatabase(file);
  let t = start;
  const journal = new Journal(db, {
    now: () => {
      t += 1000;
      return new Date(t);
    },
  });
  const self: TestJournal = {
    db,
    journal,
    path: file,
    batch: (afterSeq = 0, limit) => {
      const b = readUploadBatch(db, afterSeq, limit);
      if (!b) throw new Error(`no entries after ${afterSeq}`);
      return b;
    },
    copy: () => {
      const dir = mkdtempSync(join(tmpdir(), 'clearing-journal-'));
      folders.push(dir);
      const target = join(dir, 'terminal.db');
      db.handle.exec(`VACUUM INTO '${target}'`);
      return openTestJournal(target, t);
    },
    close: () => db.close(),
  };
  return self;
}

export function removeTestJournals(): void {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export const cardId = (): string => toHex(randomBytes(16));
const hex = (n: number) => toHex(randomBytes(n));

/** The transfer keys the fixture's cards hold (one generation, ID 1), as `host init` writes them. */
export const FIXTURE_CLEARING_KEYS: ClearingKeyFile = {
  format: 1,
  issuerId: toHex(randomBytes(16)),
  transferKeys: { '1': toHex(randomBytes(16)) },
};
export const FIXTURE_TRANSFER_KEY_ID = 1;
export const FIXTURE_CURRENCY = 978;
export const FIXTURE_DATE = 1_765_000_000;

/** A verifier of the fixture's key set, for a host under test (`clearingKeys`). */
export function fixtureVerifier(): TransferProofVerifier {
  return TransferProofVerifier.fromKeyFile(FIXTURE_CLEARING_KEYS);
}

/** What a genuine card's MACs bind (protocol §4.3), as hex. */
export interface ProofTerms {
  payerId: string;
  payeeId: string;
  amount: number;
  currency?: number;
  date?: number;
  txRandom: string;
  rxRandom: string;
}

/** The proofs genuine cards of the fixture's key make for these terms (hex, as journaled). */
export function genuineProofs(t: ProofTerms): {
  challenge: string;
  receptionChallenge: string;
  ack: string;
  abortProof: string;
  releaseProof: string;
} {
  const key = fromHex(FIXTURE_CLEARING_KEYS.transferKeys[String(FIXTURE_TRANSFER_KEY_ID)]!);
  const mac = (label: MacLabel, rx: boolean) =>
    toHex(
      transferMac(key, label, {
        transferKeyId: FIXTURE_TRANSFER_KEY_ID,
        payerId: fromHex(t.payerId),
        payeeId: fromHex(t.payeeId),
        currency: t.currency ?? FIXTURE_CURRENCY,
        amount: t.amount,
        date: t.date ?? FIXTURE_DATE,
        txRandom: fromHex(t.txRandom),
        rxRandom: rx ? fromHex(t.rxRandom) : ZERO_RANDOM,
      }),
    );
  return {
    challenge: mac(MAC_LABEL.TRANSMISSION_CHALLENGE, true),
    receptionChallenge: mac(MAC_LABEL.RECEPTION_CHALLENGE, true),
    ack: mac(MAC_LABEL.CREDIT_ACKNOWLEDGEMENT, true),
    abortProof: mac(MAC_LABEL.ABORT_PROOF, false),
    releaseProof: mac(MAC_LABEL.RELEASE_PROOF, true),
  };
}

export interface TransferTerms {
  payerId: string;
  payeeId: string;
  amount: number;
  /** INITIATE DEBIT's random: with the payer's ID, what names the transfer on the cards. */
  txRandom?: string;
  flowId?: string;
}

export type TransferEnd = 'completed' | 'in-doubt' | 'refunded' | 'rolled-back' | 'credited';

/**
 * Journals one value transfer up to `end` (the engine's steps): completed; in doubt after DEBIT
 * (debited, nothing after); credited (delivered, not yet acknowledged); refunded (released and
 * refunded); rolled back before DEBIT. Returns the transfer's random and flow ID.
 */
export function journalTransfer(
  j: TestJournal,
  terms: TransferTerms,
  end: TransferEnd = 'completed',
  origin?: 'found-on-card' | 'delivered',
): { txRandom: string; flowId: string } {
  const flowId = terms.flowId ?? randomUUID();
  const txRandom = terms.txRandom ?? hex(16);
  const rxRandom = hex(16);
  // Terms no card would accept (a hostile terminal's, in tests) get random bytes: no card made them.
  const hex16 = /^[0-9A-F]{32}$/;
  const genuine =
    Number.isSafeInteger(terms.amount) &&
    terms.amount > 0 &&
    terms.amount <= 0xffff_ffff &&
    [terms.payerId, terms.payeeId, txRandom].every((h) => hex16.test(h));
  const proofs = genuine
    ? genuineProofs({ ...terms, txRandom, rxRandom })
    : {
        challenge: hex(16),
        receptionChallenge: hex(16),
        ack: hex(16),
        abortProof: hex(16),
        releaseProof: hex(16),
      };
  const append = (step: string, payload: Record<string, unknown>, facts?: FlowFacts) =>
    j.journal.append({ flowId, flowKind: 'value-transfer', step, payload }, facts);
  append(
    'started',
    {
      payerId: terms.payerId,
      payeeId: terms.payeeId,
      payerSerial: '01',
      payeeSerial: '02',
      amount: terms.amount,
      currency: FIXTURE_CURRENCY,
      date: FIXTURE_DATE,
      keyUpdates: [],
      ...(origin ? { origin, txRandom, rxRandom } : {}),
    },
    // A hostile terminal's terms (tests) are no facts the journal accepts: they go without.
    Number.isSafeInteger(terms.amount) && terms.amount > 0
      ? { amount: terms.amount, currency: 978 }
      : undefined,
  );
  if (end === 'rolled-back') {
    append('rolled-back', { code: 'E_CARD_ABSENT', message: 'payee pulled', payeeSettled: true });
    return { txRandom, flowId };
  }
  if (origin === undefined) append('credit-initiated', { txRandom, rxRandom, challenge: proofs.challenge });
  append('debited', {
    receptionChallenge: proofs.receptionChallenge,
    ...(origin ? { txRandom, rxRandom } : {}),
  });
  if (end === 'in-doubt') return { txRandom, flowId };
  if (end === 'refunded') {
    append('released', { txRandom, rxRandom, releaseProof: proofs.releaseProof, payeeSettled: true });
    append('refunded', { payerSettled: true });
    return { txRandom, flowId };
  }
  append('credited', { ack: proofs.ack, payeeSettled: true });
  if (end === 'credited') return { txRandom, flowId };
  append('completed', { payerSettled: true });
  return { txRandom, flowId };
}

/** The entry with its record's payload changed as `edit` says (re-encoded: a valid, edited record). */
export function editedEntry(
  entry: UploadEntry,
  edit: (payload: Record<string, unknown>) => Record<string, unknown>,
): UploadEntry {
  const { at, step, payload } = decodeRecord(Buffer.from(entry.record, 'base64'));
  const record = encodeRecord(at, storedStep(step), encodePayload(edit(payload)).bytes);
  return { ...entry, record: Buffer.from(record).toString('base64') };
}
