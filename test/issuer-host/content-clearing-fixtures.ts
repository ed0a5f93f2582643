// A host clearing the content flows of real simulated cards (clearing-exchanges.test.ts,
// clearing-content-sends.test.ts): the host over a fresh database with the cards' issuer CA (and,
// optionally, its clearing key set), uploads from terminals registered on first use, hostile
// journals that copy a genuine flow with edits, and what the tests read back: the content legs, the
// card and in-flight balances, the clearing.proof alerts, and every clearing and ledger row (a refused
// upload must leave them all as they were); and a ticket shop whose customer buys with e-money.
import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { IssuerState } from '../../card-sim/issuer/issuer-state.js';
import { openDatabase } from '../../db/connection.js';
import type { JournalRecord } from '../../db/journal.js';
import { readUploadBatch } from '../../db/journal-upload.js';
import type { FlowKind } from '../../db/journal-vocabulary.js';
import { ContentEngine } from '../../electron/services/contents/content-engine.js';
import type { SlotName } from '../../electron/services/slots/reader-slots.js';
import { TransferProofVerifier } from '../../issuer-host/clearing/clearing-keys.js';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import {
  listCases,
  openDueCases,
  type RefundCase,
  settleCase,
} from '../../issuer-host/ledger/refund-cases.js';
import { toHex } from '../../protocol/bytes.js';
import {
  CLEARING_UPLOAD_PATH,
  CONTENT_RELEASE_PROOFS_PATH,
  type ContentReleaseProof,
  type UploadRequest,
  type UploadResponse,
} from '../../protocol/host-link/clearing-wire.js';
import { TEST_PIN } from '../support/card-fixtures.js';
import { createUnderRight, ticket } from '../support/content-fixtures.js';
import { makeTerminal, type TerminalUnderTest } from '../support/terminal-fixtures.js';
import { openTestJournal, type TestJournal } from './clearing-fixtures.js';
import { expectRefusal } from './host-db-fixtures.js';
import {
  CLEARING_TABLES,
  issuerWorld,
  plainClient,
  type RunningHost,
  registeredTerminal,
  startHost,
  type TestTerminal,
} from './host-fixtures.js';

export const rand = (n = 16) => toHex(randomBytes(n));

/** The terminal's journal as an upload: all of it, or its first `limit` entries. */
export function batchOf(t: TerminalUnderTest, limit?: number): UploadRequest {
  const log = openDatabase(t.dbPath);
  try {
    return readUploadBatch(log, 0, limit)!;
  } finally {
    log.close();
  }
}

export async function clearingRows(db: HostDatabase): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of CLEARING_TABLES) out[table] = await db.query(`SELECT * FROM ${table} ORDER BY 1, 2`);
  return out;
}

export async function legs(db: HostDatabase) {
  return db.query<{ transfer_key: string; phase: string; amount: bigint; kind: string }>(
    `SELECT transfer_key, phase, amount, kind FROM ledger_transfers ORDER BY transfer_id`,
  );
}

export async function balanceOf(db: HostDatabase, kind: string, ref: string): Promise<bigint> {
  const rows = await db.query<{ balance: string | bigint }>(
    'SELECT balance::bigint AS balance FROM ledger_balances WHERE kind = $1 AND ref = $2',
    [kind, ref],
  );
  return rows.length === 0 ? 0n : BigInt(rows[0]!.balance);
}

export async function proofAlerts(db: HostDatabase) {
  return db.query<{ subject: string; detail: Record<string, unknown> }>(
    `SELECT subject, detail FROM audit_events WHERE kind = 'clearing.proof' ORDER BY event_id`,
  );
}

/** The refund case of the one transfer in flight, opened as if long after it began. */
export async function caseInDoubt(db: HostDatabase): Promise<RefundCase> {
  expect(await openDueCases(db, { now: new Date('2100-01-01'), ageMs: 1000 })).toBe(1);
  const [c] = await listCases(db, 'open');
  return c!;
}

/** Staff settle the case: the refund is booked (a void), unless a card resolved the transfer first. */
export function settle(db: HostDatabase, c: RefundCase): Promise<RefundCase> {
  return settleCase(db, { caseId: c.caseId, actor: 'staff', now: new Date('2100-01-02') });
}

/** A flow's entries copied into another journal, each payload as `edit` makes it (a hostile terminal). */
export function copyFlow(
  to: TestJournal,
  entries: JournalRecord[],
  edit: (step: string, payload: Record<string, unknown>) => Record<string, unknown> = (_, p) => p,
  flowKind = entries[0]!.flowKind,
): string {
  const flowId = randomUUID();
  for (const e of entries)
    to.journal.append({
      flowId,
      flowKind,
      step: e.step,
      payload: edit(e.step, structuredClone(e.payload as Record<string, unknown>)),
    });
  return flowId;
}

/** The seq of a flow's first entry at `step` in a journal. */
export function seqIn(j: TestJournal, flowId: string, step: string): number {
  return j.journal.entriesForFlow(flowId).find((e) => e.step === step)!.seq;
}

/** A card's certificate (DER), as it shows it to every terminal. */
export function certificateOf(t: TerminalUnderTest, slot: SlotName = 'payer'): Uint8Array {
  return Buffer.from(t.cards[slot].store.read().certificate, 'hex');
}

/** The host over `db` for the cards of `issuer`; terminals are registered in shop-1 on their first upload. */
export class ContentClearingHost {
  host!: RunningHost;
  private readonly registered = new Map<string, TestTerminal>();
  private readonly journals: TestJournal[] = [];

  private constructor(
    readonly db: HostDatabase,
    private readonly issuer: IssuerState,
  ) {}

  static async open(
    db: HostDatabase,
    issuer: IssuerState,
    clearingKeys = true,
  ): Promise<ContentClearingHost> {
    const h = new ContentClearingHost(db, issuer);
    await h.start(clearingKeys);
    return h;
  }

  /** The host again, with or without the clearing key set (the cards' signatures need none). */
  async restart(clearingKeys: boolean): Promise<void> {
    await this.host.close();
    await this.start(clearingKeys);
  }

  async upload(terminalId: string, batch: UploadRequest): Promise<UploadResponse> {
    return (await this.clientOf(terminalId)).call<UploadResponse>('POST', CLEARING_UPLOAD_PATH, batch);
  }

  /** What the host serves a registered terminal as the content release proofs of `card`. */
  async contentReleaseProofs(terminalId: string, card: string): Promise<ContentReleaseProof[]> {
    return (await this.clientOf(terminalId)).call<ContentReleaseProof[]>(
      'GET',
      `${CONTENT_RELEASE_PROOFS_PATH}?card=${card}`,
    );
  }

  private async clientOf(terminalId: string) {
    let terminal = this.registered.get(terminalId);
    if (terminal === undefined) {
      terminal = await registeredTerminal(this.db, terminalId, 'shop-1');
      this.registered.set(terminalId, terminal);
    }
    return plainClient(this.host, issuerWorld('unused', this.issuer), terminal);
  }

  /** A journal of a terminal of its own (closed with the host). */
  journal(): TestJournal {
    const j = openTestJournal();
    this.journals.push(j);
    return j;
  }

  /** Refused with E_UPLOAD_PROOF naming this entry and field; no clearing or ledger row changed; one alert. */
  async expectRefused(batch: UploadRequest, at: { seq: number; step: string; proof: string }): Promise<void> {
    const before = await clearingRows(this.db);
    const alertsBefore = (await proofAlerts(this.db)).length;
    const answer = await expectRefusal(this.upload('till-hostile', batch), 'E_UPLOAD_PROOF');
    expect(answer.details.status).toBe(409);
    expect(answer.message).toContain(`entry ${at.seq} `);
    expect(await clearingRows(this.db)).toEqual(before);
    const raised = (await proofAlerts(this.db)).slice(alertsBefore);
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({
      subject: 'till-hostile',
      detail: { code: 'E_UPLOAD_PROOF', seq: at.seq, step: at.step, proof: at.proof },
    });
  }

  /** A flow whose damaged proof the journal set aside (a card refused it next): taken, nothing booked, no alert. */
  async expectSetAside(flowKind: FlowKind, entries: [string, Record<string, unknown>][]): Promise<void> {
    const before = await clearingRows(this.db);
    const j = this.journal();
    const flowId = randomUUID();
    for (const [step, payload] of entries) j.journal.append({ flowId, flowKind, step, payload });
    await this.upload('till-hostile', j.batch());
    expect((await clearingRows(this.db)).ledger_transfers).toEqual(before.ledger_transfers);
    expect(await proofAlerts(this.db)).toEqual([]);
  }

  async close(): Promise<void> {
    for (const j of this.journals.splice(0)) j.close();
    await this.host.close();
  }

  private async start(clearingKeys: boolean): Promise<void> {
    this.host = await startHost({
      db: this.db,
      world: issuerWorld('unused', this.issuer),
      ...(clearingKeys
        ? {
            clearingKeys: TransferProofVerifier.fromKeyFile({
              format: 1,
              issuerId: this.issuer.issuerId,
              transferKeys: this.issuer.transferKeys,
            }),
          }
        : {}),
    });
  }
}

/** A shop's terminal with a customer card (payer) and the shop's issuer card holding a ticket. */
export async function ticketShop(payee: { maxBalance?: number } = {}) {
  const t = makeTerminal({
    payer: { balance: 5_000 },
    payee: { balance: 0, issuerCard: true, pin: '0000', ...payee },
  });
  const contents = new ContentEngine(t.engine, { journal: t.journal, flows: t.flows, slots: t.slots });
  const item = ticket(t.issuer);
  await t.engine.withCards(async (cards) => {
    const s = await cards.session('payee');
    await createUnderRight(t.issuer, s.client, s.info.holderId, cards.now(), item);
  });
  await t.engine.login('payer', TEST_PIN);
  await contents.authenticate();
  const buy = (amount: number) =>
    contents.exchange({ initiator: 'payer', give: { amount }, take: { itemId: item.id } });
  const ids = {
    customer: t.cards.payer.store.read().holderId,
    shop: t.cards.payee.store.read().holderId,
  };
  return { t, contents, buy, ids };
}
