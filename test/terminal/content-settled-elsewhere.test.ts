// A content flow interrupted at terminal A after its first transfer reached the other card, then
// settled at terminal B (its recovery adopts the receiver's pending record), after which the first
// card takes part in eight more transfers: a card keeps settled records only until its log of eight
// needs the room, so its record of the flow's transfer is gone when the cards come back to A. A's
// recovery used to read that as "the first card never started it" and journal a roll-back of an
// exchange that had completed. Now the other card's record says how it ended (completed, rolled back),
// and when neither card holds one any more A claims no outcome. A journaled ID that is not certainly
// the card's (replayed, damaged on its way) keeps its old handling.
import { describe, expect, it } from 'vitest';
import { ContentEngine } from '../../electron/services/contents/content-engine.js';
import type { SlotName } from '../../electron/services/slots/reader-slots.js';
import {
  CONTENT_FLOW_SHAPES,
  type ContentFlowKind,
  ContentFold,
} from '../../issuer-host/clearing/content-evidence.js';
import { fromHex } from '../../protocol/bytes.js';
import { parseCertificate } from '../../protocol/pki/index.js';
import { INS, LOG_CAPACITY } from '../../protocol/settlement/commands.js';
import { arm } from '../support/card-faults.js';
import { TEST_PIN } from '../support/card-fixtures.js';
import { createUnderRight, ticket } from '../support/content-fixtures.js';
import { makeTerminal, type TerminalUnderTest, terminalRecovery } from '../support/terminal-fixtures.js';

const PRICE = 1500;
const SETTLED_ELSEWHERE = 'the first card settled it elsewhere and no longer holds its record';

const contentsOf = (t: TerminalUnderTest) =>
  new ContentEngine(t.engine, { journal: t.journal, flows: t.flows, slots: t.slots });

/** Terminal A: the customer (payer slot, 50.00) and the shop's issuer card with a ticket (payee slot). */
async function shopA() {
  const a = makeTerminal({ payer: { balance: 5000 }, payee: { balance: 0, issuerCard: true, pin: '0000' } });
  const contents = contentsOf(a);
  const item = ticket(a.issuer);
  await a.engine.withCards(async (cards) => {
    const s = await cards.session('payee');
    await createUnderRight(a.issuer, s.client, s.info.holderId, cards.now(), item);
  });
  await a.engine.login('payer', TEST_PIN);
  await contents.authenticate();
  return { a, contents, item };
}

/** Moves the cards of A to terminal B (same issuer), which runs its recovery pass with them. */
async function settleAtB(a: TerminalUnderTest) {
  for (const slot of ['payer', 'payee'] as const) a.slots.remove(slot);
  const b = makeTerminal({ issuer: a.issuer });
  for (const slot of ['payer', 'payee'] as const) {
    b.slots.remove(slot);
    b.slots.insert(slot, a.cards[slot].os);
  }
  await terminalRecovery(b).run();
  return b;
}

/**
 * At B: another card of the issuer takes the slot beside the card in `stays` and sends it 0.10,
 * LOG_CAPACITY times: the stayer's settled records of before are evicted.
 */
async function evictAt(b: TerminalUnderTest, a: TerminalUnderTest, stays: SlotName) {
  const away: SlotName = stays === 'payer' ? 'payee' : 'payer';
  const other = makeTerminal({ issuer: a.issuer, payer: { balance: 5000 } }).cards.payer;
  for (const slot of ['payer', 'payee'] as const) b.slots.remove(slot);
  b.slots.insert(stays, a.cards[stays].os);
  b.slots.insert(away, other.os);
  const contents = contentsOf(b);
  await b.engine.login(away, TEST_PIN);
  await contents.authenticate();
  for (let i = 0; i < LOG_CAPACITY; i++)
    expect(await contents.send({ from: away, amount: 10 })).toMatchObject({ status: 'completed' });
  for (const slot of ['payer', 'payee'] as const) b.slots.remove(slot);
}

/** The cards back in A's readers. */
function backToA(a: TerminalUnderTest) {
  for (const slot of ['payer', 'payee'] as const) {
    a.slots.clearFaults(slot);
    if (a.slots.card(slot)) a.slots.remove(slot);
    a.slots.insert(slot, a.cards[slot].os);
  }
}

/**
 * The cards back at A, whose recovery reports `expected` for the flow and, whatever it journals,
 * changes nothing on them (nothing released, nothing moved: the flow ended elsewhere).
 */
async function recoverAtA(a: TerminalUnderTest, contents: ContentEngine, expected: object) {
  backToA(a);
  const before = cardsImage(a);
  expect(await contents.recover()).toEqual([expected]);
  expect(cardsImage(a)).toBe(before);
}

/** The value half's bookings the issuer host makes on the proofs A's journal carries for the flow. */
function hostBookings(a: TerminalUnderTest, flowId: string, kind: ContentFlowKind) {
  const fold = new ContentFold(
    flowId,
    CONTENT_FLOW_SHAPES[kind],
    parseCertificate(fromHex(a.issuer.caCertificate)),
  );
  for (const e of a.journal.entriesForFlow(flowId)) fold.read(e.seq, e.step, e.payload, true);
  expect(fold.evidence.filter((x) => x.verdict === 'failed')).toEqual([]);
  return fold.backedBookings().map((b) => ({ amount: b.leg.amount, phases: b.phases }));
}

const recordOf = (t: TerminalUnderTest, slot: SlotName, txId: string) =>
  t.cards[slot].store.read().contentLog.find((r) => r.txId === txId);
const cardsImage = (t: TerminalUnderTest) =>
  JSON.stringify([t.cards.payer.store.read(), t.cards.payee.store.read()]);
const steps = (t: TerminalUnderTest, flowId: string) => t.journal.entriesForFlow(flowId).map((e) => e.step);
const lastEntry = (t: TerminalUnderTest, flowId: string) => t.journal.entriesForFlow(flowId).at(-1)!;

/** A ticket bought with 15.00 at A, interrupted by pulling the card in `slot` before its command `ins`. */
async function exchangeInterruptedAtA(slot: SlotName, ins: number) {
  const { a, contents, item } = await shopA();
  arm(a, slot, ins, 'pulled-before');
  const outcome = await contents.exchange({
    initiator: 'payer',
    give: { amount: PRICE },
    take: { itemId: item.id },
  });
  expect(outcome).toMatchObject({ status: 'interrupted' });
  const flowId = outcome.flowId!;
  const firstSent = a.journal.entriesForFlow(flowId).find((e) => e.step === 'first-sent');
  return { a, contents, item, flowId, firstTxId: String(firstSent?.payload.firstTxId) };
}

describe('an exchange settled at another terminal, its initiator’s record evicted', () => {
  it('completed at B: A journals it completed with the proofs the host books on, and moves nothing', async () => {
    // X committed at A; the responder's ACCEPT of X never arrived.
    const { a, contents, item, flowId, firstTxId } = await exchangeInterruptedAtA(
      'payee',
      INS.CONTENT_ACCEPT,
    );
    expect(steps(a, flowId)).toContain('first-committed');
    const b = await settleAtB(a);
    // B adopted the shop card's pending first half as an exchange (its own half linked to it) and
    // completed it: the ticket is the customer's, B's flow closed.
    expect(b.flows.openFlows()).toEqual([]);
    expect(a.cards.payer.store.read().contents.map((i) => i.id)).toEqual([item.id]);
    expect(recordOf(a, 'payee', firstTxId)?.status).toBe('accepted');
    await evictAt(b, a, 'payer');
    expect(recordOf(a, 'payer', firstTxId)).toBeUndefined();

    await recoverAtA(a, contents, { flowId, kind: 'content-exchange', outcome: 'completed' });
    expect(steps(a, flowId)).not.toContain('rolled-back');
    expect(steps(a, flowId)).not.toContain('released');
    const end = lastEntry(a, flowId);
    expect(end.step).toBe('completed');
    // The responder's deletion proof of its half: the issuer host posts the e-money leg on it.
    expect(end.payload).toMatchObject({ recovered: true, reason: SETTLED_ELSEWHERE });
    expect(end.payload.secondDeletionProof).toMatch(/^[0-9A-F]+$/);
    expect(hostBookings(a, flowId, 'content-exchange')).toEqual([
      { amount: PRICE, phases: ['pending', 'post'] },
    ]);
    expect(contents.openFlows()).toEqual([]);
    expect(a.journal.verify()).toMatchObject({ ok: true });
  });

  it('rolled back at B: A journals it rolled back, never completed', async () => {
    // Y is pending on the initiator (the commit instruction of X journaled); X was never committed.
    const { a, contents, flowId, firstTxId } = await exchangeInterruptedAtA('payer', INS.CONTENT_COMMIT);
    expect(steps(a, flowId)).toContain('second-received');
    const b = await settleAtB(a);
    expect(a.balances()).toEqual({ payer: 5000, payee: 0 });
    expect(recordOf(a, 'payee', firstTxId)?.status).toBe('discarded');
    await evictAt(b, a, 'payer');
    expect(recordOf(a, 'payer', firstTxId)).toBeUndefined();

    await recoverAtA(a, contents, { flowId, kind: 'content-exchange', outcome: 'rolled-back' });
    expect(lastEntry(a, flowId)).toMatchObject({
      step: 'rolled-back',
      payload: { reason: SETTLED_ELSEWHERE },
    });
  });

  it('both cards evicted: A claims no outcome, marks it once and leaves it to the issuer host', async () => {
    const { a, contents, flowId } = await exchangeInterruptedAtA('payee', INS.CONTENT_ACCEPT);
    const b = await settleAtB(a);
    await evictAt(b, a, 'payer');
    await evictAt(b, a, 'payee');

    await recoverAtA(a, contents, { flowId, kind: 'content-exchange', outcome: 'waiting' });
    expect(steps(a, flowId)).not.toContain('rolled-back');
    expect(steps(a, flowId)).not.toContain('completed');
    expect(lastEntry(a, flowId).step).toBe('outcome-unknown');
    // Listed in doubt (with its transfer IDs, what the issuer needs); asked of the cards no more.
    expect(terminalRecovery(a).inDoubt().contents).toMatchObject([{ flowId, lastStep: 'outcome-unknown' }]);
    const seen: number[] = [];
    for (const slot of ['payer', 'payee'] as const) {
      const os = a.cards[slot].os;
      const transmit = os.transmit.bind(os);
      os.transmit = (apdu) => {
        if (apdu[0] === 0x80 && apdu[1] === INS.CONTENT_STATUS) seen.push(apdu[1]);
        return transmit(apdu);
      };
    }
    const count = a.journal.entriesForFlow(flowId).length;
    expect(await contents.recover()).toEqual([{ flowId, kind: 'content-exchange', outcome: 'waiting' }]);
    expect(a.journal.entriesForFlow(flowId)).toHaveLength(count);
    expect(seen).toEqual([]);
  });
});

describe('a send settled at another terminal, its sender’s record evicted', () => {
  it('completed at B: A journals it completed with the receiver’s acceptance', async () => {
    const { a, contents } = await shopA();
    // The customer pays 5.00; the shop card's ACCEPT never arrived (the sender committed).
    arm(a, 'payee', INS.CONTENT_ACCEPT, 'pulled-before');
    const sent = await contents.send({ from: 'payer', amount: 500 });
    expect(sent).toMatchObject({ status: 'interrupted' });
    const flowId = sent.flowId!;
    const txId = String(a.journal.entriesForFlow(flowId).find((e) => e.step === 'sent')!.payload.txId);
    const b = await settleAtB(a);
    expect(recordOf(a, 'payee', txId)?.status).toBe('accepted');
    await evictAt(b, a, 'payer');
    expect(recordOf(a, 'payer', txId)).toBeUndefined();

    await recoverAtA(a, contents, { flowId, kind: 'content-transfer', outcome: 'completed' });
    expect(steps(a, flowId)).not.toContain('rolled-back');
    const end = lastEntry(a, flowId);
    expect(end).toMatchObject({ step: 'completed', payload: { recovered: true, reason: SETTLED_ELSEWHERE } });
    expect(end.payload.acceptance).toMatch(/^[0-9A-F]+$/);
    expect(hostBookings(a, flowId, 'content-transfer')).toEqual([
      { amount: 500, phases: ['pending', 'post'] },
    ]);
  });
});

describe('a first transfer this flow never certainly started: as before', () => {
  it('the card never answered CONTENT SEND: rolled back, the first card never started it', async () => {
    const { a, contents, flowId } = await exchangeInterruptedAtA('payer', INS.CONTENT_SEND);
    expect(steps(a, flowId)).not.toContain('first-sent');
    backToA(a);
    expect(await contents.recover()).toEqual([{ flowId, kind: 'content-exchange', outcome: 'rolled-back' }]);
    expect(lastEntry(a, flowId)).toMatchObject({
      step: 'rolled-back',
      payload: { reason: 'the first card never started it' },
    });
  });
});
