// Assembles the main process's services from the configuration, in order: transaction log, CRL
// cache, reader slots, settlement engine. The Electron shell, the browser host and the terminal
// CLI all start the terminal through this one function.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCard } from '../../card-sim/card-files.js';
import { openDatabase, type TerminalDatabase } from '../../db/connection.js';
import { CrlStore } from '../../db/crl-store.js';
import { Flows } from '../../db/flows.js';
import { Journal, type JournalRecord } from '../../db/journal.js';
import { fromPem } from '../../protocol/pki/index.js';
import type { TerminalConfig } from './config.js';
import { ContentEngine } from './contents/content-engine.js';
import { CrlCache } from './crl/crl-cache.js';
import { SettlementEngine } from './settlement/settlement-engine.js';
import { createPcscSlots } from './slots/pcsc-slots.js';
import type { ReaderSlots } from './slots/reader-slots.js';
import { createSimulatedSlots } from './slots/simulated-slots.js';

export interface TerminalServices {
  config: TerminalConfig;
  db: TerminalDatabase;
  journal: Journal;
  flows: Flows;
  crl: CrlCache;
  slots: ReaderSlots;
  engine: SettlementEngine;
  /**
   * Seed 000 contents: authentication, listing, transmission and exchange, on the engine's card
   * sessions. Its open flows are not part of engine.recover(): at start-up call both
   * (`await engine.recover(); await contents.recover();`).
   */
  contents: ContentEngine;
  close(): Promise<void>;
}

export async function startTerminalServices(
  config: TerminalConfig,
  options: { afterJournalAppend?: (r: JournalRecord) => void; slots?: ReaderSlots; now?: () => Date } = {},
): Promise<TerminalServices> {
  mkdirSync(config.dataDir, { recursive: true });
  const db = openDatabase(join(config.dataDir, 'terminal.db'));
  try {
    const journal = new Journal(db);
    const flows = new Flows(db);
    const caCertificateDer = readDerOrPem(config.caCertificate);
    const crl = new CrlCache({
      store: new CrlStore(db),
      caCertificateDer,
      ...(config.builtinCrl ? { builtinCrlDer: readDerOrPem(config.builtinCrl) } : {}),
      expiredPolicy: config.crl.expiredPolicy,
      fetchTimeoutMs: config.crl.fetchTimeoutMs,
      ...(config.crl.distributionPoint ? { distributionPoint: config.crl.distributionPoint } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    const slots = options.slots ?? (await openSlots(config));
    const engine = new SettlementEngine({
      slots,
      journal,
      flows,
      crl,
      caCertificateDer,
      currency: config.currency,
      ...(options.now ? { now: options.now } : {}),
      ...(options.afterJournalAppend ? { afterJournalAppend: options.afterJournalAppend } : {}),
    });
    const contents = new ContentEngine(engine, { journal, flows, slots });
    return {
      config,
      db,
      journal,
      flows,
      crl,
      slots,
      engine,
      contents,
      async close() {
        contents.close();
        await engine.close();
        await slots.close();
        db.close();
      },
    };
  } catch (e) {
    db.close();
    throw e;
  }
}

async function openSlots(config: TerminalConfig): Promise<ReaderSlots> {
  if (config.slots.backend === 'pcsc') {
    return createPcscSlots({ mapping: config.slots.readers, waitingTimeMs: config.waitingTimeMs });
  }
  const slots = createSimulatedSlots({ waitingTimeMs: config.waitingTimeMs });
  slots.insert('payer', openCard(config.slots.cards.payer).os);
  slots.insert('payee', openCard(config.slots.cards.payee).os);
  return slots;
}

function readDerOrPem(path: string): Uint8Array {
  const bytes = new Uint8Array(readFileSync(path));
  return bytes[0] === 0x30 ? bytes : fromPem(new TextDecoder().decode(bytes));
}
