// A send whose sender was pulled before its ACKNOWLEDGE, while its receiver goes on to eight more
// transfers: the receiver's accepted record of it is evicted (a card keeps settled records only until
// its log of eight needs the room), so only the journal still holds the acceptance. Recovery
// acknowledges the sender with that journaled copy; without it the sender's record stayed deleted
// (unsettled, a log slot taken) for good while the flow closed completed (the fleet soak, seed 61 at
// 20 rounds, found it). A copy the card refuses changes nothing.
import { describe, expect, it } from 'vitest';
import { ContentEngine } from '../../electron/services/contents/content-engine.js';
import type { SlotName } from '../../electron/services/slots/reader-slots.js';
import { INS, LOG_CAPACITY } from '../../protocol/settlement/commands.js';
import { arm } from '../support/card-faults.js';
import { TEST_PIN } from '../support/card-fixtures.js';
import { makeTerminal, type TerminalUnderTest } from '../support/terminal-fixtures.js';

/** A send of 500 whose sender card is pulled before its ACKNOWLEDGE: interrupted, the acceptance journaled. */
async function sendPulledBeforeAcknowledge() {
  const t = makeTerminal({ payer: { balance: 5_000 }, payee: { balance: 0 } });
  const contents = new ContentEngine(t.engine, { journal: t.journal, flows: t.flows, slots: t.slots });
  await t.engine.login('payer', TEST_PIN);
  await contents.authenticate();
  arm(t, 'payer', INS.CONTENT_ACKNOWLEDGE, 'pulled-before');
  const sent = await contents.send({ from: 'payer', amount: 500 });
  expect(sent).toMatchObject({ status: 'interrupted' });
  t.slots.clearFaults('payer');
  const flow = t.journal.entriesForFlow(sent.flowId!);
  return {
    t,
    contents,
    flowId: sent.flowId!,
    flow,
    txId: String(flow.find((e) => e.step === 'sent')!.payload.txId),
  };
}

/** The card in `slot` of `t`, by its own record of `txId`. */
const recordOf = (t: TerminalUnderTest, slot: SlotName, txId: string) =>
  t.cards[slot].store.read().contentLog.find((r) => r.txId === txId);

/**
 * With the card in `away` out, another card of the issuer takes its slot and sends e-money to the card
 * that stayed, LOG_CAPACITY times: the stayer's settled records of before are evicted. Then it goes.
 */
async function evictWhileAway(t: TerminalUnderTest, contents: ContentEngine, away: SlotName) {
  const other = makeTerminal({ issuer: t.issuer, payer: { balance: 5_000 } }).cards.payer;
  t.slots.insert(away, other.os);
  await t.engine.login(away, TEST_PIN);
  await contents.authenticate();
  for (let i = 0; i < LOG_CAPACITY; i++)
    expect(await contents.send({ from: away, amount: 10 })).toMatchObject({ status: 'completed' });
  t.slots.remove(away);
}

describe('a send’s sender acknowledged with the journaled acceptance once its receiver evicted its record', () => {
  it('settles the sender’s deleted record', async () => {
    const { t, contents, flowId, flow, txId } = await sendPulledBeforeAcknowledge();
    expect(flow.find((e) => e.step === 'accepted')!.payload).toHaveProperty('acceptance');
    await evictWhileAway(t, contents, 'payer');
    expect(recordOf(t, 'payee', txId)).toBeUndefined();
    expect(recordOf(t, 'payer', txId)?.status).toBe('deleted');

    t.slots.insert('payer', t.cards.payer.os);
    expect(await contents.recover()).toEqual([{ flowId, kind: 'content-transfer', outcome: 'completed' }]);
    expect(recordOf(t, 'payer', txId)?.status).toBe('acknowledged');
    expect(t.cards.payer.store.read().balance).toBe(4_500);
  });

  it('a journaled copy the sender refuses changes nothing, and recovery still ends', async () => {
    const { t, contents, flowId, txId } = await sendPulledBeforeAcknowledge();
    // The acceptance as journaled was damaged: a later entry of the flow carries a bad copy.
    await t.engine.withCards(async (cards) =>
      cards.record(flowId, 'content-transfer', 'interrupted', { acceptance: '00'.repeat(70) }),
    );
    await evictWhileAway(t, contents, 'payer');
    t.slots.insert('payer', t.cards.payer.os);
    expect(await contents.recover()).toMatchObject([{ outcome: 'completed' }]);
    expect(recordOf(t, 'payer', txId)?.status).toBe('deleted'); // left for the issuer, as before
  });
});
