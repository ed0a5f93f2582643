// The transaction log a benchmark measures: real value transfers' journal entries, written in bulk
// with the journal's own writer (see bench/journal-scale.ts, "Fill"). Shared by journal-scale.ts and
// screen-scale.ts.
import { randomBytes } from 'node:crypto';
import { openDatabase } from '../db/connection.js';
import { checkFacts, type FlowFacts } from '../db/flow-facts.js';
import { Journal, type JournalRecord } from '../db/journal.js';
import { encodePayload, storedFlowId } from '../db/journal-codec.js';
import type { FlowKind } from '../db/journal-vocabulary.js';
import { JournalWriter } from '../db/journal-writer.js';
import { makeTerminal } from '../test/support/terminal-fixtures.js';

export const LOG_PAGE = 12; // renderer/src/log-page.ts
export const STEPS = ['started', 'credit-initiated', 'debited', 'credited', 'completed'];
export const KEY_STEPS = ['planned', 'completed'];
export const DAY_MS = 86_400_000;
export const ZONE = 'Asia/Kathmandu';
export const FIRST_DAY = Date.parse('2024-01-02T00:00:00Z');
export const OPENING_MS = 2 * 3_600_000; // transfers spread over 02:00–14:00 UTC (07:45–19:45 in Kathmandu)
export const TRADING_MS = 12 * 3_600_000;
export const ENTRY_GAP_MS = 5;
export const BULK_BATCH = 1000;
export const REAL_TAIL = 100;
export const SHOP = { id: 'A0B1C2D3E4F5061728394A5B6C7D8E9F', serial: '0999', label: 'Corner Shop' };
export const FIRST_NAMES = [
  'Alice',
  'Bruno',
  'Chloé',
  'Dmitri',
  'Elif',
  'Farah',
  'Gustav',
  'Hana',
  'Ines',
  'Jonas',
];
export const SURNAMES = Array.from({ length: 500 }, (_, i) => `Surname${i.toString(36)}x`);

export interface Template {
  currency: number;
  fields: string[][];
  keyUpdate: Record<string, unknown>[];
}

export interface Appended {
  transfers: number;
  /** Per transfer: the instant its flow closed and its amount (to check the end of day). */
  closedAt: Float64Array;
  amounts: Uint32Array;
}

/** A deterministic 16-byte value per (kind, index): flow IDs and customer cards need no memory. */
export function bytes16(kind: number, i: number): Buffer {
  const b = Buffer.alloc(16);
  let x = BigInt(i) * 0x9e3779b97f4a7c15n + BigInt(kind) * 0xbf58476d1ce4e5b9n;
  for (let k = 0; k < 2; k++) {
    x ^= x >> 30n;
    x = (x * 0xbf58476d1ce4e5b9n) & 0xffffffffffffffffn;
    x ^= x >> 27n;
    x = (x * 0x94d049bb133111ebn) & 0xffffffffffffffffn;
    x ^= x >> 31n;
    b.writeBigUInt64BE(x, k * 8);
  }
  return b;
}

export function flowIdOf(i: number): string {
  const h = bytes16(1, i).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
}

export function customer(c: number): { id: string; serial: string; label: string } {
  return {
    id: bytes16(2, c).toString('hex').toUpperCase(),
    serial: String(1000 + c),
    label: `${FIRST_NAMES[c % FIRST_NAMES.length]} ${SURNAMES[Math.floor(c / FIRST_NAMES.length) % SURNAMES.length]}`,
  };
}

export const hex = (n: number) => randomBytes(n).toString('hex').toUpperCase();

/** Runs one real transfer (and one with a key update) between simulated cards; keeps their entries. */
export async function captureTemplate(): Promise<Template> {
  const run = async (keys: { payer: number; payee: number }) => {
    const entries: JournalRecord[] = [];
    const t = makeTerminal({
      payer: { transferKeyId: keys.payer },
      payee: { transferKeyId: keys.payee },
      afterJournalAppend: (r) => entries.push(r),
    });
    try {
      const outcome = await t.engine.transfer({ amount: 1 });
      if (outcome.status !== 'completed') throw new Error(`template transfer ${outcome.status}`);
    } finally {
      await t.engine.close();
    }
    return entries;
  };
  const plain = await run({ payer: 1, payee: 1 });
  if (plain.map((e) => e.step).join() !== STEPS.join()) {
    throw new Error(
      `a transfer now writes ${plain.map((e) => e.step).join(', ')}; update bench/journal-scale.ts`,
    );
  }
  const updated = await run({ payer: 1, payee: 3 });
  const keyUpdate = updated.filter((e) => e.flowKind === 'key-update');
  if (keyUpdate.map((e) => e.step).join() !== KEY_STEPS.join()) {
    throw new Error(
      `a key update now writes ${keyUpdate.map((e) => e.step).join(', ')}; update the benchmark`,
    );
  }
  return {
    currency: Number(plain[0]!.payload.currency),
    fields: plain.map((e) => Object.keys(e.payload).sort()),
    keyUpdate: keyUpdate.map((e) => e.payload),
  };
}

/** Writes transfers with the journal's own writer, many per transaction; see the header. */
export class Filler {
  readonly log: Appended;
  transfers = 0;

  constructor(
    private readonly t: Template,
    private readonly perDay: number,
    private readonly customers: number,
    capacity: number,
  ) {
    this.log = { transfers: 0, closedAt: new Float64Array(capacity), amounts: new Uint32Array(capacity) };
  }

  fillTo(
    path: string,
    size: number,
    o: { withKeyUpdates?: boolean; realTail?: number } = {},
  ): {
    seconds: number;
    appendMicros: number;
  } {
    const db = openDatabase(path);
    try {
      db.handle.pragma('synchronous = OFF');
      const writer = new JournalWriter(db.handle);
      const bulkEnd = Math.max(this.transfers, size - (o.realTail ?? 0));
      const t0 = performance.now();
      const batch = db.handle.transaction((end: number) => {
        for (; this.transfers < end; this.transfers++) {
          for (const e of this.entries(this.transfers, o.withKeyUpdates === true)) {
            writer.write({
              flowId: storedFlowId(e.flowId),
              flowKind: e.kind,
              step: e.step,
              at: e.at,
              payload: encodePayload(e.payload).bytes,
              facts: checkFacts(e.facts ?? {}),
            });
          }
        }
      });
      while (this.transfers < bulkEnd) batch.immediate(Math.min(bulkEnd, this.transfers + BULK_BATCH));
      const seconds = (performance.now() - t0) / 1000;
      // The real tail: Journal.append, one commit per entry, with the terminal's fsync.
      db.handle.pragma('synchronous = FULL');
      let clock = 0;
      const journal = new Journal(db, { now: () => new Date(clock) });
      const t1 = performance.now();
      let appended = 0;
      for (; this.transfers < size; this.transfers++) {
        for (const e of this.entries(this.transfers, false)) {
          clock = e.at;
          journal.append({ flowId: e.flowId, flowKind: e.kind, step: e.step, payload: e.payload }, e.facts);
          appended++;
        }
      }
      const appendMicros = appended > 0 ? ((performance.now() - t1) * 1000) / appended : Number.NaN;
      this.log.transfers = this.transfers;
      return { seconds, appendMicros };
    } finally {
      db.close();
    }
  }

  /** One transfer's entries (and its key update's, before it, when asked). */
  private *entries(i: number, withKeyUpdate: boolean) {
    const day = Math.floor(i / this.perDay);
    const start =
      FIRST_DAY + day * DAY_MS + OPENING_MS + Math.floor(((i % this.perDay) * TRADING_MS) / this.perDay);
    // Customer 0 pays once a day at the close: the card searched for has a known, steady history.
    const c = customer(i % this.perDay === this.perDay - 1 ? 0 : 1 + (i % (this.customers - 1)));
    const amount = 1 + (i % 9973) * 7;
    if (i < this.log.closedAt.length) {
      this.log.closedAt[i] = start + (STEPS.length - 1) * ENTRY_GAP_MS;
      this.log.amounts[i] = amount;
    }
    if (withKeyUpdate) {
      const keyFlow = flowIdOf(-1 - i);
      for (const [k, payload] of this.t.keyUpdate.entries()) {
        yield {
          flowId: keyFlow,
          kind: 'key-update' as FlowKind,
          step: KEY_STEPS[k]!,
          at: start - 100 + k,
          payload: k === 0 ? { ...payload, receiver: c.id, sender: SHOP.id } : payload,
          facts:
            k === 0
              ? {
                  cards: [
                    { holderId: c.id, label: c.label },
                    { holderId: SHOP.id, label: SHOP.label },
                  ],
                }
              : undefined,
        };
      }
    }
    const payloads: Record<string, unknown>[] = [
      {
        amount,
        currency: this.t.currency,
        date: Math.floor(start / 1000),
        keyUpdates: [],
        payeeId: SHOP.id,
        payeeLabel: SHOP.label,
        payeeSerial: SHOP.serial,
        payeeSlot: 'payee',
        payerId: c.id,
        payerLabel: c.label,
        payerSerial: c.serial,
        payerSlot: 'payer',
      },
      { txRandom: hex(16), rxRandom: hex(16), challenge: hex(16) },
      { receptionChallenge: hex(16) },
      { ack: hex(16), payeeSettled: true },
      { payerSettled: true },
    ];
    for (const [k, payload] of payloads.entries()) {
      if (Object.keys(payload).sort().join() !== this.t.fields[k]!.join()) {
        throw new Error(
          `the engine's "${STEPS[k]}" payload has fields ${this.t.fields[k]!.join()}; update the benchmark`,
        );
      }
      const facts: FlowFacts | undefined =
        k === 0
          ? {
              amount,
              currency: this.t.currency,
              cards: [
                { holderId: c.id, label: c.label },
                { holderId: SHOP.id, label: SHOP.label },
              ],
            }
          : undefined;
      yield {
        flowId: flowIdOf(i),
        kind: 'value-transfer' as FlowKind,
        step: STEPS[k]!,
        at: start + k * ENTRY_GAP_MS,
        payload,
        facts,
      };
    }
  }
}
