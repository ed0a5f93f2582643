// E-money sent as a one-way content transfer (ContentEngine.send with an amount) at clearing
// (docs/content-clearing.md), on both backends. Honest path: real simulated cards send value through
// the content engine; the terminal's journal is uploaded and the send's leg (kind content-send) is
// booked pending → post, or pending → void when it was aborted or given back, once however many
// terminals journaled it (interrupted at each of its commands and recovered here or at another
// terminal), and a send left in doubt becomes a refund case. The fleet report counts sends apart and
// reconciles with the terminal's own summary. Adversary: a registered terminal that journals, well
// chained, a send no card made (random or replayed proofs, raised amounts, another receiver,
// certificates of another card or another CA): each refused whole with E_UPLOAD_PROOF, one
// clearing.proof alert, and no row of clearing or the ledger changed.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JournalRecord } from '../../db/journal.js';
import { ContentEngine } from '../../electron/services/contents/content-engine.js';
import type { SlotName } from '../../electron/services/slots/reader-slots.js';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import { fleetReport } from '../../issuer-host/ledger/fleet-report.js';
import { toHex } from '../../protocol/bytes.js';
import { INS } from '../../protocol/settlement/commands.js';
import { arm, type Fault, presentAgain } from '../support/card-faults.js';
import { TEST_PIN } from '../support/card-fixtures.js';
import { makeTerminal, terminalRecovery } from '../support/terminal-fixtures.js';
import { removeTestJournals, type TestJournal } from './clearing-fixtures.js';
import {
  balanceOf,
  batchOf,
  ContentClearingHost,
  caseInDoubt,
  certificateOf,
  copyFlow,
  legs,
  proofAlerts,
  rand,
  seqIn,
  settle,
  ticketShop,
} from './content-clearing-fixtures.js';
import { BACKENDS, useHostDatabases } from './host-db-fixtures.js';
import { staffToken } from './host-fixtures.js';

const dbs = useHostDatabases();
afterAll(() => removeTestJournals());
const START = 5_000;
const everything = { from: new Date(0), to: new Date('2100-01-01') };

/** A terminal whose customer card (payer, owner PIN verified) sends e-money to another card (payee). */
async function sendingTill(receiver: { maxBalance?: number } = {}) {
  const t = makeTerminal({ payer: { balance: START }, payee: { balance: 0, ...receiver } });
  const contents = new ContentEngine(t.engine, { journal: t.journal, flows: t.flows, slots: t.slots });
  await t.engine.login('payer', TEST_PIN);
  await contents.authenticate();
  const ids = { sender: t.cards.payer.store.read().holderId, receiver: t.cards.payee.store.read().holderId };
  const lastFlow = () => t.journal.entriesForFlow(t.flows.all().at(-1)!.flowId);
  return { t, contents, ids, lastFlow, send: (amount: number) => contents.send({ from: 'payer', amount }) };
}
type Till = Awaited<ReturnType<typeof sendingTill>>;

/** The send's transfer ID, from the first entry of the flow that names it. */
const txIdOf = (flow: JournalRecord[]) =>
  String(flow.find((e) => typeof e.payload.txId === 'string')!.payload.txId);

describe.each(BACKENDS)('e-money sends at clearing on %s', (backend) => {
  let db: HostDatabase;
  let clearing: ContentClearingHost;
  let till: Till;

  beforeEach(async () => {
    db = await dbs.fresh(backend);
    till = await sendingTill();
    clearing = await ContentClearingHost.open(db, till.t.issuer);
  });
  afterEach(() => clearing.close());

  /** The host's ledger says what the cards say: each card's balance moved as its own, nothing in flight. */
  async function expectLedgerAsCards() {
    const { payer, payee } = till.t.balances();
    expect(await balanceOf(db, 'card', till.ids.sender)).toBe(BigInt(payer - START));
    expect(await balanceOf(db, 'card', till.ids.receiver)).toBe(BigInt(payee));
    expect(await balanceOf(db, 'in-flight', 'shop-1')).toBe(0n);
    expect(await db.query('SELECT * FROM ledger_exceptions')).toEqual([]);
    expect(await proofAlerts(db)).toEqual([]);
  }

  it('books a completed send pending → post, reports it apart, reconciling with the terminal’s summary', async () => {
    expect(await till.send(1_200)).toMatchObject({ status: 'completed' });
    const flow = till.lastFlow();
    expect(flow[0]!.payload).toMatchObject({ offer: { amount: 1_200 } });
    expect(Object.keys(flow[0]!.payload)).toEqual(
      expect.arrayContaining(['senderCertificate', 'receiverCertificate']),
    );
    await clearing.upload('till-1', batchOf(till.t));
    const key = `${till.ids.sender}:${txIdOf(flow)}`;
    expect(await legs(db)).toEqual([
      { transfer_key: key, phase: 'pending', amount: 1_200n, kind: 'content-send' },
      { transfer_key: key, phase: 'post', amount: 1_200n, kind: 'content-send' },
    ]);
    await expectLedgerAsCards();

    // The same send as another terminal journaled it: still one leg, its flow noted beside.
    const j = clearing.journal();
    copyFlow(j, flow);
    await clearing.upload('till-2', j.batch());
    expect(await legs(db)).toHaveLength(2);
    const flows = await db.query('SELECT * FROM ledger_transfer_flows WHERE transfer_key = $1', [key]);
    expect(flows).toHaveLength(2);

    // The fleet's day: the send apart from value transfers and exchanges, as the terminal summed it.
    const own = till.t.flows.summary(everything);
    const sent = own.lines.filter((l) => l.kind === 'content-transfer' && l.outcome === 'completed');
    const day = await fleetReport(db, everything);
    const line = day.terminals.find((l) => l.terminalId === 'till-1')!;
    expect(line.sends.posted).toEqual({ count: 1, amount: BigInt(sent.reduce((n, l) => n + l.amount, 0)) });
    expect([line.posted.count, line.exchanges.posted.count]).toEqual([0, 0]);
    expect(day.issuer[0]!.sends).toEqual({
      posted: { count: 1, amount: 1_200n },
      voided: { count: 0, amount: 0n },
      pending: { count: 1, amount: 1_200n },
    });
    const auditor = await staffToken(db, 'auditor');
    const around = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
    const response = await fetch(
      `${clearing.host.url}/admin/reports/end-of-day?from=${around(-1)}&to=${around(1)}`,
      { headers: { authorization: `Bearer ${auditor}` } },
    );
    expect(response.status).toBe(200);
    const report = (await response.json()) as { issuer: { sends: { posted: unknown } }[] };
    expect(report.issuer[0]!.sends.posted).toEqual({ count: 1, amount: '1200' });
  });

  it('voids the leg of a send the receiver refused, on the abort proof recovery journaled', async () => {
    await clearing.close();
    db = await dbs.fresh(backend);
    till = await sendingTill({ maxBalance: 1_000 }); // RECEIVE of 1,500 refused: 9402
    clearing = await ContentClearingHost.open(db, till.t.issuer);
    expect(await till.send(1_500)).toMatchObject({ status: 'rolled-back' });
    expect(till.lastFlow().at(-1)!.payload).toHaveProperty('abortProof');
    await clearing.upload('till-1', batchOf(till.t));
    expect((await legs(db)).map((l) => [l.phase, l.kind])).toEqual([
      ['pending', 'content-send'],
      ['void', 'content-send'],
    ]);
    await expectLedgerAsCards();
  });

  it('a send left in doubt becomes a refund case with its proofs; the receiver accepting it later wins', async () => {
    expect(await till.send(800)).toMatchObject({ status: 'completed' });
    const flow = till.lastFlow();
    await clearing.upload('till-1', batchOf(till.t, flow.find((e) => e.step === 'committed')!.seq));
    expect((await legs(db)).map((l) => l.phase)).toEqual(['pending']);
    const c = await caseInDoubt(db);
    expect(c).toMatchObject({ payerId: till.ids.sender, amount: 800n });
    expect(c.proofs.map((p) => (p as { step: string }).step)).toEqual(
      expect.arrayContaining(['received', 'committed']),
    );
    await clearing.upload('till-1', batchOf(till.t));
    expect((await legs(db)).map((l) => l.phase)).toEqual(['pending', 'post']);
    await expect(settle(db, c)).rejects.toMatchObject({ code: 'E_CONFLICT' });
  });

  it('settles a refund case of a send with a void of its leg; the card’s later acceptance is an exception', async () => {
    expect(await till.send(700)).toMatchObject({ status: 'completed' });
    const flow = till.lastFlow();
    await clearing.upload('till-1', batchOf(till.t, flow.find((e) => e.step === 'committed')!.seq));
    await settle(db, await caseInDoubt(db));
    expect((await legs(db)).map((l) => [l.phase, l.kind])).toEqual([
      ['pending', 'content-send'],
      ['void', 'content-send'],
    ]);
    expect(await balanceOf(db, 'card', till.ids.sender)).toBe(0n);
    await clearing.upload('till-1', batchOf(till.t));
    expect(await legs(db)).toHaveLength(2);
    const exceptions = await db.query<{ kind: string }>('SELECT kind FROM ledger_exceptions');
    expect(exceptions.map((x) => x.kind)).toEqual(['after-refund-case']);
  });

  // The send interrupted at each of its commands (the card acted and its answer was lost, or it never
  // got the command), settled by recovery: the host books what the cards did.
  const commands: [string, number, SlotName][] = [
    ['SEND', INS.CONTENT_SEND, 'payer'],
    ['RECEIVE', INS.CONTENT_RECEIVE, 'payee'],
    ['COMMIT', INS.CONTENT_COMMIT, 'payer'],
    ['ACCEPT', INS.CONTENT_ACCEPT, 'payee'],
    ['ACKNOWLEDGE', INS.CONTENT_ACKNOWLEDGE, 'payer'],
  ];
  const cases = (faults: Fault[]) =>
    commands.flatMap(([name, ins, slot]) => faults.map((f) => [name, f, ins, slot] as const));
  const interrupted = async (fault: Fault, ins: number, slot: SlotName) => {
    arm(till.t, slot, ins, fault);
    expect(await till.send(1_500)).toMatchObject({ status: 'interrupted' });
  };

  /** One leg at most: a pending and one resolution, posted exactly when the receiver holds the value. */
  async function expectOneLeg() {
    const phases = (await legs(db)).map((l) => l.phase);
    expect([[], ['pending', 'void'], ['pending', 'post']]).toContainEqual(phases);
    expect(phases.includes('post')).toBe(till.t.balances().payee === 1_500);
    expect(till.t.total()).toBe(START);
    await expectLedgerAsCards();
  }

  it.each(cases(['pulled-after', 'timeout-before-card']))(
    'interrupted at %s (%s) and recovered at the same terminal: one leg, as the cards hold it',
    async (_name, fault, ins, slot) => {
      await interrupted(fault, ins, slot);
      presentAgain(till.t);
      await till.contents.recover();
      expect(till.contents.openFlows()).toEqual([]);
      await clearing.upload('till-1', batchOf(till.t));
      await expectOneLeg();
    },
  );

  it.each(cases(['pulled-after', 'pulled-before']))(
    'interrupted at %s (%s), settled at another terminal, then recovered back here: one leg',
    async (_name, fault, ins, slot) => {
      await interrupted(fault, ins, slot);
      // Both cards to terminal B, whose recovery adopts the receiver's pending record (if it holds one)
      // and settles it with the sender there.
      const b = makeTerminal({ issuer: till.t.issuer });
      for (const s of ['payer', 'payee'] as const) {
        till.t.slots.clearFaults(s);
        till.t.slots.remove(s);
        b.slots.remove(s);
        b.slots.insert(s, till.t.cards[s].os);
      }
      await terminalRecovery(b).run();
      const adopted = b.flows.all().filter((f) => f.flowKind === 'content-transfer');
      if (adopted.length > 0) await clearing.upload('till-b', batchOf(b));
      // Back at A: its own flow settles from the cards' records (already settled at B, or now).
      for (const s of ['payer', 'payee'] as const) b.slots.remove(s);
      presentAgain(till.t);
      await till.contents.recover();
      expect(till.contents.openFlows()).toEqual([]);
      await clearing.upload('till-1', batchOf(till.t));
      await expectOneLeg();
      const key = (await legs(db))[0]?.transfer_key;
      if (key !== undefined && adopted.length > 0) {
        const flows = await db.query<{ terminal_id: string }>(
          'SELECT terminal_id FROM ledger_transfer_flows WHERE transfer_key = $1 ORDER BY 1',
          [key],
        );
        expect(flows.map((f) => f.terminal_id)).toEqual(['till-1', 'till-b']);
      }
    },
  );

  it('the receiver alone at another terminal gives a committed send back: void there, refunded here', async () => {
    await interrupted('pulled-after', INS.CONTENT_COMMIT, 'payer'); // the sender debited; its answer lost
    till.t.slots.remove('payee');
    const b = makeTerminal({ issuer: till.t.issuer });
    for (const s of ['payer', 'payee'] as const) b.slots.remove(s);
    b.slots.insert('payee', till.t.cards.payee.os);
    await terminalRecovery(b).run(); // adopted, released: its sender is not here
    const released = b.journal.entriesForFlow(b.flows.all().at(-1)!.flowId);
    expect(released.map((e) => e.step)).toEqual(['started', 'released']);
    await clearing.upload('till-b', batchOf(b));
    expect((await legs(db)).map((l) => l.phase)).toEqual(['pending', 'void']);
    b.slots.remove('payee');
    presentAgain(till.t);
    await till.contents.recover(); // the sender takes the release proof back
    expect(till.t.balances()).toEqual({ payer: START, payee: 0 });
    await clearing.upload('till-1', batchOf(till.t));
    expect((await legs(db)).map((l) => l.phase)).toEqual(['pending', 'void']);
    await expectLedgerAsCards();
  });

  it('an exchange’s e-money half journaled as a send is the same leg, never a second one', async () => {
    await clearing.close();
    db = await dbs.fresh(backend);
    const shop = await ticketShop();
    clearing = await ContentClearingHost.open(db, shop.t.issuer);
    expect(await shop.buy(1_500)).toMatchObject({ status: 'completed' });
    const exchange = shop.t.journal.entriesForFlow(shop.t.flows.all().at(-1)!.flowId);
    // A hostile terminal renames the first half's fields into a send's and uploads it first.
    const asSend: Record<string, string> = {
      initiatorId: 'senderId',
      responderId: 'receiverId',
      initiatorCertificate: 'senderCertificate',
      responderCertificate: 'receiverCertificate',
      give: 'offer',
      firstTxId: 'txId',
      firstCommit: 'commitInstruction',
    };
    const j = clearing.journal();
    copyFlow(
      j,
      exchange.filter((e) => ['started', 'first-sent', 'first-received'].includes(e.step)),
      (_, p) =>
        Object.fromEntries(Object.entries(p).flatMap(([k, v]) => (asSend[k] ? [[asSend[k], v]] : []))),
      'content-transfer',
    );
    await clearing.upload('till-hostile', j.batch());
    expect((await legs(db)).map((l) => [l.phase, l.kind])).toEqual([['pending', 'content-send']]);
    await clearing.upload('till-1', batchOf(shop.t));
    expect((await legs(db)).map((l) => [l.phase, l.kind])).toEqual([
      ['pending', 'content-send'],
      ['post', 'content-send'],
    ]);
    expect(await balanceOf(db, 'card', shop.ids.shop)).toBe(1_500n);
    expect(await db.query('SELECT * FROM ledger_exceptions')).toEqual([]);
  });

  describe('refuses evidence no card made, whole, changing nothing', () => {
    let genuine: JournalRecord[];
    beforeEach(async () => {
      expect(await till.send(1_500)).toMatchObject({ status: 'completed' });
      genuine = till.lastFlow();
      await clearing.upload('till-1', batchOf(till.t)); // the honest terminal's bookings are there to be kept
    });
    const refusedAt = (j: TestJournal, flowId: string, step: string, proof: string) =>
      clearing.expectRefused(j.batch(), { seq: seqIn(j, flowId, step), step, proof });
    const edited = (edit: (step: string, p: Record<string, unknown>) => Record<string, unknown>) => {
      const j = clearing.journal();
      return { j, flowId: copyFlow(j, genuine, edit) };
    };
    const inStarted =
      (change: (p: Record<string, unknown>) => Record<string, unknown>) =>
      (step: string, p: Record<string, unknown>) =>
        step === 'started' ? change(p) : p;

    it('(a) an invented send whose commit instruction is random bytes', async () => {
      const j = clearing.journal();
      const flowId = copyFlow(j, genuine.slice(0, 2)); // started (genuine certificates), sent
      j.journal.append({
        flowId,
        flowKind: 'content-transfer',
        step: 'received',
        payload: { commitInstruction: rand(70) },
      });
      await refusedAt(j, flowId, 'received', 'commitInstruction');
    });

    it('(b) the genuine send with its amount raised', async () => {
      const { j, flowId } = edited(
        inStarted((p) => ({ ...p, offer: { ...(p.offer as object), amount: 150_000 } })),
      );
      await refusedAt(j, flowId, 'received', 'commitInstruction');
    });

    it('(c) the genuine send in another currency', async () => {
      const { j, flowId } = edited(
        inStarted((p) => ({ ...p, offer: { ...(p.offer as object), currency: 840 } })),
      );
      await refusedAt(j, flowId, 'received', 'commitInstruction');
    });

    it('(d) the genuine send to another card (its own certificate journaled)', async () => {
      const other = makeTerminal({ issuer: till.t.issuer });
      const { j, flowId } = edited(
        inStarted((p) => ({
          ...p,
          receiverId: other.cards.payee.store.read().holderId,
          receiverCertificate: toHex(certificateOf(other, 'payee')),
        })),
      );
      await refusedAt(j, flowId, 'received', 'commitInstruction');
    });

    it('(e) a certificate of another card under the sender’s holder ID', async () => {
      const { j, flowId } = edited(inStarted((p) => ({ ...p, senderCertificate: p.receiverCertificate })));
      await refusedAt(j, flowId, 'started', 'senderCertificate');
    });

    it('(f) a certificate another CA signed, for a card of its own making', async () => {
      const forger = makeTerminal(); // its own issuer and CA
      const { j, flowId } = edited(
        inStarted((p) => ({
          ...p,
          senderId: forger.cards.payer.store.read().holderId,
          senderCertificate: toHex(certificateOf(forger)),
        })),
      );
      await refusedAt(j, flowId, 'started', 'senderCertificate');
    });

    it('(g) an acceptance the receiver made for another send (the post replayed)', async () => {
      expect(await till.send(100)).toMatchObject({ status: 'completed' });
      const other = till.lastFlow().find((e) => e.step === 'accepted')!.payload.acceptance;
      const { j, flowId } = edited((step, p) => (step === 'accepted' ? { ...p, acceptance: other } : p));
      await refusedAt(j, flowId, 'accepted', 'acceptance');
    });

    it('(h) without the clearing key set too: the cards’ signatures need no secret', async () => {
      await clearing.restart(false);
      const { j, flowId } = edited((step, p) =>
        step === 'committed' ? { ...p, deletionProof: rand(71) } : p,
      );
      await refusedAt(j, flowId, 'committed', 'deletionProof');
    });

    it('books nothing on a proof the terminal set aside (a card refused it next), and is not refused', () =>
      clearing.expectSetAside('content-transfer', [
        ['started', genuine[0]!.payload as Record<string, unknown>],
        ['sent', { txId: rand() }],
        ['received', { commitInstruction: rand(70) }],
        ['card-refused', { code: 'E_PKI_SIGNATURE', sw: 0x6982 }],
        ['rolled-back', { reason: 'the first card never started it' }],
      ]));
  });
});
