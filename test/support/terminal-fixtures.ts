// A terminal under test: a fresh SQLite log, the CRL cache, simulated reader slots holding cards
// made by the test issuer, and the settlement engine, wired as terminal-services.ts wires them.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createIssuer,
  type PersonalizeOptions,
  personalizeCard,
  publishCrl,
} from '../../card-sim/issuer/issuer.js';
import type { IssuerState } from '../../card-sim/issuer/issuer-state.js';
import { MemoryBackend } from '../../card-sim/os/persistence-backend.js';
import { createSettlementCard, type SimulatedCard } from '../../card-sim/settlement-card.js';
import { openDatabase } from '../../db/connection.js';
import { CrlStore } from '../../db/crl-store.js';
import { Flows } from '../../db/flows.js';
import { Journal, type JournalRecord } from '../../db/journal.js';
import { CrlCache } from '../../electron/services/crl/crl-cache.js';
import { TerminalRecovery } from '../../electron/services/recovery/terminal-recovery.js';
import { SettlementEngine } from '../../electron/services/settlement/settlement-engine.js';
import type { SlotName } from '../../electron/services/slots/reader-slots.js';
import { createSimulatedSlots, type SimulatedSlots } from '../../electron/services/slots/simulated-slots.js';
import { fromHex } from '../../protocol/bytes.js';
import { DEFAULT_CARD, TEST_CURRENCY, type TestCard, testIssuer } from './card-fixtures.js';

export const TERMINAL_NOW = new Date('2026-11-21T10:00:00Z');

export interface TerminalUnderTest {
  issuer: IssuerState;
  cards: Record<SlotName, SimulatedCard>;
  slots: SimulatedSlots;
  journal: Journal;
  flows: Flows;
  crl: CrlCache;
  engine: SettlementEngine;
  dbPath: string;
  total(): number;
  balances(): Record<SlotName, number>;
}

export function makeTerminal(
  o: {
    payer?: Partial<PersonalizeOptions>;
    payee?: Partial<PersonalizeOptions>;
    issuer?: IssuerState;
    expiredPolicy?: 'refuse' | 'warn';
    now?: Date;
    /** Publish a CRL (after revoking these card slots) and import it as the built-in one. */
    revoke?: SlotName[];
    crlValidityDays?: number;
    noCrl?: boolean;
    waitingTimeMs?: number;
    /** Whether the simulated readers carry extended-length APDUs (default true). */
    extendedLength?: boolean;
    afterJournalAppend?: (r: JournalRecord) => void;
  } = {},
): TerminalUnderTest {
  const issuer =
    o.issuer ??
    createIssuer({
      name: 'Terminal Test',
      currency: TEST_CURRENCY,
      updateKeys: 3,
      transferKeys: 6,
      now: new Date('2026-01-01T00:00:00Z'),
    });
  const make = (p?: Partial<PersonalizeOptions>) =>
    createSettlementCard({
      backend: new MemoryBackend(),
      initial: personalizeCard(issuer, { ...DEFAULT_CARD, ...p }),
    });
  const cards = { payer: make(o.payer), payee: make(o.payee) };
  const now = o.now ?? TERMINAL_NOW;
  for (const slot of o.revoke ?? []) {
    const serial = issuer.issued.find((c) => c.holderId === cards[slot].store.read().holderId)!.serial;
    issuer.revoked.push({ serial, revokedAt: new Date(now.getTime() - 86_400_000).toISOString() });
  }
  const dbPath = join(mkdtempSync(join(tmpdir(), 'terminal-')), 'terminal.db');
  const db = openDatabase(dbPath);
  const caCertificateDer = fromHex(issuer.caCertificate);
  const crl = new CrlCache({
    store: new CrlStore(db),
    caCertificateDer,
    builtinCrlDer: o.noCrl
      ? undefined
      : publishCrl(issuer, {
          now: new Date(now.getTime() - 3_600_000),
          validityDays: o.crlValidityDays ?? 7,
        }),
    expiredPolicy: o.expiredPolicy ?? 'refuse',
    now: () => now,
  });
  const slots = createSimulatedSlots({
    waitingTimeMs: o.waitingTimeMs ?? 200,
    ...(o.extendedLength === undefined ? {} : { extendedLength: o.extendedLength }),
  });
  slots.insert('payer', cards.payer.os);
  slots.insert('payee', cards.payee.os);
  const journal = new Journal(db);
  const flows = new Flows(db);
  const engine = new SettlementEngine({
    slots,
    journal,
    flows,
    crl,
    caCertificateDer,
    currency: TEST_CURRENCY,
    now: () => now,
    afterJournalAppend: o.afterJournalAppend,
  });
  const balances = () => ({
    payer: cards.payer.store.read().balance,
    payee: cards.payee.store.read().balance,
  });
  return {
    issuer,
    cards,
    slots,
    journal,
    flows,
    crl,
    engine,
    dbPath,
    balances,
    total: () => balances().payer + balances().payee,
  };
}

/** The terminal's recovery surface over a terminal under test, as terminal-services.ts builds it. */
export function terminalRecovery(t: TerminalUnderTest, retryMs = 10): TerminalRecovery {
  return new TerminalRecovery({
    engine: t.engine,
    journal: t.journal,
    flows: t.flows,
    slots: t.slots,
    retryMs,
  });
}

/**
 * A terminal whose readers hold the given cards (all of the test issuer, made with makeCard), with
 * its recovery surface: `place` swaps a card into a slot and waits for the insertion's pass (if the
 * recovery watches insertions), `unplug` takes one out.
 */
export async function shopTerminal(cards: Record<SlotName, TestCard>) {
  const t = makeTerminal({ issuer: testIssuer() });
  for (const slot of ['payer', 'payee'] as const) {
    t.slots.remove(slot);
    t.slots.insert(slot, cards[slot].sim.os);
  }
  const recovery = terminalRecovery(t);
  const place = async (slot: SlotName, card: TestCard) => {
    t.slots.remove(slot);
    t.slots.insert(slot, card.sim.os);
    await recovery.settled();
  };
  return { t, recovery, place, unplug: (slot: SlotName) => t.slots.remove(slot) };
}

/** Unix seconds of TERMINAL_NOW: the date a terminal under test puts on its transfers. */
export const TERMINAL_DATE = Math.floor(TERMINAL_NOW.getTime() / 1000);

/** Transfer terms with `counterpart`, as a hostile terminal beside the one under test would send them. */
export const termsWith = (counterpart: TestCard, amount: number) => ({
  counterpartId: counterpart.holderId,
  currency: TEST_CURRENCY,
  amount,
  date: TERMINAL_DATE,
});
