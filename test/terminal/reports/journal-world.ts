// A terminal journal written by hand, at chosen instants, for the reports' tests: flows shaped as the
// engines journal them (docs/journal.md), without cards, each opening entry with the facts the
// engines pass (read from its payload as a converted log's are: legacyFacts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type TerminalDatabase } from '../../../db/connection.js';
import { Flows } from '../../../db/flows.js';
import { type FlowKind, Journal } from '../../../db/journal.js';
import { legacyFacts } from '../../../db/legacy-journal.js';

export const ALICE = 'A11CE00000000000000000000000A11C';
export const SHOP = 'C0FFEE00000000000000000000C0FFEE';
export const BOB = 'B0B0000000000000000000000000B0B0';

export interface JournalWorld {
  journal: Journal;
  flows: Flows;
  /** Appends the steps of one flow, each at its instant. */
  flow(
    flowId: string,
    kind: FlowKind,
    steps: [at: string, step: string, payload?: Record<string, unknown>][],
  ): void;
  /** A value transfer: started at `at`, ended a second later with `end` (completed by default). */
  transfer(
    flowId: string,
    at: string,
    amount: number,
    o?: { end?: string; refundOf?: string; operator?: string; payer?: string; payee?: string },
  ): void;
  close(): void;
}

const plusSeconds = (iso: string, s: number) => new Date(Date.parse(iso) + s * 1000).toISOString();

export function journalWorld(): JournalWorld {
  const dir = mkdtempSync(join(tmpdir(), 'reports-'));
  let clock = new Date(0);
  const db: TerminalDatabase = openDatabase(join(dir, 'terminal.db'));
  const journal = new Journal(db, { now: () => clock });
  const flows = new Flows(db);
  const world: JournalWorld = {
    journal,
    flows,
    flow(flowId, kind, steps) {
      for (const [at, step, payload] of steps) {
        clock = new Date(at);
        journal.append(
          { flowId, flowKind: kind, step, payload: payload ?? {} },
          legacyFacts(kind, step, payload ?? {}),
        );
      }
    },
    transfer(flowId, at, amount, o = {}) {
      const [payer, payee] = o.refundOf ? [SHOP, ALICE] : [o.payer ?? ALICE, o.payee ?? SHOP];
      const label = (id: string) => ({ [ALICE]: 'Alice', [SHOP]: 'Corner Shop', [BOB]: 'Bob' })[id];
      const end = o.end ?? 'completed';
      type Step = [string, string, Record<string, unknown>];
      const ending: Step[] =
        end === 'in-doubt'
          ? [
              [plusSeconds(at, 1), 'debit-initiated', { txRandom: 'AA' }],
              [plusSeconds(at, 1), 'credit-initiated', { rxRandom: 'BB', challenge: 'CC' }],
              [plusSeconds(at, 1), 'interrupted', { code: 'E_TRANSPORT', message: 'pulled' }],
            ]
          : end === 'completed'
            ? [[plusSeconds(at, 1), 'completed', { payerSettled: true }]]
            : [[plusSeconds(at, 1), end, { code: 'E_INSUFFICIENT_FUNDS', message: 'no' }]];
      world.flow(flowId, 'value-transfer', [
        [
          at,
          'started',
          {
            payerId: payer,
            payeeId: payee,
            payerLabel: label(payer),
            payeeLabel: label(payee),
            amount,
            currency: 978,
            date: Math.floor(Date.parse(at) / 1000),
            keyUpdates: [],
            operator: o.operator,
            refundOf: o.refundOf,
          },
        ],
        ...ending,
      ]);
    },
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

/** An exchange: the customer (payer slot, initiator) gives e-money for the shop's item. */
export function exchangeSteps(
  at: string,
  amount: number,
  label: string,
  o: { operator?: string; end?: string } = {},
): [string, string, Record<string, unknown>?][] {
  return [
    [
      at,
      'started',
      {
        initiatorSlot: 'payer',
        initiatorId: ALICE,
        initiatorLabel: 'Alice',
        responderSlot: 'payee',
        responderId: SHOP,
        responderLabel: 'Corner Shop',
        give: { amount, currency: 978 },
        take: { itemId: '1'.padStart(32, '0'), label, type: 'ticket', policy: 'public' },
        sessionId: '00',
        operator: o.operator,
      },
    ],
    ...(o.end === 'open' ? [] : [[plusSeconds(at, 1), o.end ?? 'completed'] as [string, string]]),
  ];
}
