// One flow cannot stop a recovery pass (flow-isolation.ts): a card that answers one flow's recovery
// with garbage (a hostile or broken card) used to end the pass there, and every flow after it was
// never tried, for as long as that card stayed. Now that flow is reported (a typed failure, an
// 'error' recovery event), its journal untouched, it stays open; the pass goes on and settles the
// next one. A card that stops answering still ends the pass (it cannot be told from one pulled).
import { describe, expect, it } from 'vitest';
import { ContentEngine } from '../../electron/services/contents/content-engine.js';
import type { RecoveryEvent } from '../../electron/services/recovery/terminal-recovery.js';
import { concat, fromHex, toHex } from '../../protocol/bytes.js';
import { INS } from '../../protocol/settlement/commands.js';
import type { VirtualCard } from '../../protocol/virtual-card.js';
import { TEST_PIN } from '../support/card-fixtures.js';
import { makeTerminal, type TerminalUnderTest, terminalRecovery } from '../support/terminal-fixtures.js';

const contentsOf = (t: TerminalUnderTest) =>
  new ContentEngine(t.engine, { journal: t.journal, flows: t.flows, slots: t.slots });

/** The card answers what `instead` gives (a hostile or broken card), else its own answer; counts them. */
function answerInstead(os: VirtualCard, instead: (apdu: Uint8Array) => Uint8Array | undefined) {
  const transmit = os.transmit.bind(os);
  let answered = 0;
  os.transmit = (apdu) => {
    const bad = instead(apdu);
    if (!bad) return transmit(apdu);
    answered++;
    return bad;
  };
  return () => answered;
}

/** Pulls the card `os` out of the payee slot when it is sent `ins` (before it acts). */
function pullOnce(t: TerminalUnderTest, os: VirtualCard, ins: number) {
  const transmit = os.transmit.bind(os);
  let pulled = false;
  os.transmit = (apdu) => {
    if (pulled || apdu[0] !== 0x80 || apdu[1] !== ins) return transmit(apdu);
    pulled = true;
    queueMicrotask(() => t.slots.remove('payee'));
    return new Uint8Array(0);
  };
}

/** A send of `amount` from the customer (payer slot) whose receiver `os` is pulled before its ACCEPT. */
async function sendInterrupted(
  t: TerminalUnderTest,
  contents: ContentEngine,
  amount: number,
  os: VirtualCard,
) {
  await t.engine.login('payer', TEST_PIN);
  await contents.authenticate();
  pullOnce(t, os, INS.CONTENT_ACCEPT);
  const sent = await contents.send({ from: 'payer', amount });
  expect(sent).toMatchObject({ status: 'interrupted', recovery: 'waiting' });
  const flowId = sent.flowId!;
  const txId = String(t.journal.entriesForFlow(flowId).find((e) => e.step === 'sent')!.payload.txId);
  t.slots.clearFaults('payee');
  return { flowId, txId };
}

/**
 * Two open sends of the customer's card: the first to the shop card (now away), the second to a
 * second shop card, which is back in the reader. The customer's card answers the first flow's CONTENT
 * STATUS with `garbage`.
 */
async function twoOpenFlows(garbage: (apdu: Uint8Array) => Uint8Array | undefined) {
  const t = makeTerminal({ payer: { balance: 5000 }, payee: { balance: 0 } });
  const contents = contentsOf(t);
  const first = await sendInterrupted(t, contents, 500, t.cards.payee.os);
  const shop2 = makeTerminal({ issuer: t.issuer, payee: { balance: 0 } }).cards.payee;
  t.slots.insert('payee', shop2.os);
  const second = await sendInterrupted(t, contents, 300, shop2.os);
  t.slots.insert('payee', shop2.os);
  const garbageAnswers = answerInstead(t.cards.payer.os, (apdu) =>
    apdu[1] === INS.CONTENT_STATUS && toHex(apdu.subarray(5, 21)) === first.txId ? garbage(apdu) : undefined,
  );
  return { t, first, second, shop2, garbageAnswers };
}

const MALFORMED = () => concat(fromHex('E30AC00101C10102C2'), fromHex('9000')); // a template cut short

describe('one flow cannot stop a recovery pass', () => {
  it('the first flow’s card answers garbage: it is reported and left open, the second is settled in the same pass', async () => {
    const { t, first, second, shop2, garbageAnswers } = await twoOpenFlows(MALFORMED);
    const firstEntries = t.journal.entriesForFlow(first.flowId).length;
    const recovery = terminalRecovery(t);
    const events: RecoveryEvent[] = [];
    recovery.on((e) => events.push(e));

    const run = await recovery.run();
    expect(garbageAnswers()).toBeGreaterThan(0);
    // The second flow: settled, the shop card credited.
    expect(run.contents).toEqual([{ flowId: second.flowId, kind: 'content-transfer', outcome: 'completed' }]);
    expect(shop2.store.read().balance).toBe(300);
    // The first: reported with a typed code naming it, its journal untouched, still open.
    expect(run.failures).toHaveLength(1);
    const [failure] = run.failures;
    expect(failure).toMatchObject({ flowId: first.flowId, kind: 'content-transfer' });
    expect(failure!.error.code).toMatch(/^E_[A-Z_]+$/);
    expect(failure!.error.details).toMatchObject({ flowId: first.flowId, flowKind: 'content-transfer' });
    expect(events).toContainEqual({ type: 'error', trigger: 'on-demand', error: failure!.error });
    expect(t.journal.entriesForFlow(first.flowId)).toHaveLength(firstEntries);
    expect(
      contentsOf(t)
        .openFlows()
        .map((f) => f.flowId),
    ).toEqual([first.flowId]);
    expect(t.journal.verify()).toMatchObject({ ok: true });
  });

  it('the content engine’s own recover() still tries every flow, then says what failed', async () => {
    const { t, first, shop2 } = await twoOpenFlows(MALFORMED);
    const contents = contentsOf(t);
    await expect(contents.recover()).rejects.toMatchObject({ details: { flowId: first.flowId } });
    expect(shop2.store.read().balance).toBe(300);
    expect(contents.openFlows().map((f) => f.flowId)).toEqual([first.flowId]);
  });

  it('a card that stops answering ends the pass, nothing journaled for the flows after it', async () => {
    const { t, second } = await twoOpenFlows(() => undefined);
    let stalled = false;
    t.slots.stall('payer', {
      when: (apdu) => {
        if (stalled || apdu[1] !== INS.CONTENT_STATUS) return false;
        stalled = true;
        return true;
      },
    });
    const secondEntries = t.journal.entriesForFlow(second.flowId).length;
    await expect(terminalRecovery(t).run()).rejects.toMatchObject({ code: 'E_TRANSPORT_TIMEOUT' });
    expect(t.journal.entriesForFlow(second.flowId)).toHaveLength(secondEntries);
  });

  it('a value transfer whose payer card answers its status with garbage does not keep the content flow after it from settling', async () => {
    const t = makeTerminal({ payer: { balance: 5000 }, payee: { balance: 0 } });
    const contents = contentsOf(t);
    // A payment of 2.00 whose shop card is pulled before CREDIT: the customer debited, in doubt.
    await t.engine.login('payer', TEST_PIN);
    pullOnce(t, t.cards.payee.os, INS.CREDIT);
    const paid = await t.engine.transfer({ amount: 200 });
    expect(paid).toMatchObject({ status: 'interrupted' });
    const valueFlow = t.engine.inDoubt()[0]!.flowId;
    const shop2 = makeTerminal({ issuer: t.issuer, payee: { balance: 0 } }).cards.payee;
    t.slots.insert('payee', shop2.os);
    const send = await sendInterrupted(t, contents, 300, shop2.os);
    t.slots.insert('payee', shop2.os);
    answerInstead(t.cards.payer.os, (apdu) =>
      apdu[0] === 0x80 && apdu[1] === INS.GET_TRANSACTION_STATUS ? fromHex('E3FF9000') : undefined,
    );
    const valueEntries = t.journal.entriesForFlow(valueFlow).length;

    const run = await terminalRecovery(t).run();
    expect(run.contents).toEqual([{ flowId: send.flowId, kind: 'content-transfer', outcome: 'completed' }]);
    expect(shop2.store.read().balance).toBe(300);
    expect(run.failures).toContainEqual(
      expect.objectContaining({ flowId: valueFlow, kind: 'value-transfer' }),
    );
    expect(t.journal.entriesForFlow(valueFlow)).toHaveLength(valueEntries);
    expect(t.engine.inDoubt().map((r) => r.flowId)).toEqual([valueFlow]);
  });
});
