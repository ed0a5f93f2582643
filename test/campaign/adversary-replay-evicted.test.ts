// A replayed honest INITIATE CREDIT after the payee evicted its record of that transaction (protocol
// §4.3): the card accepts it (it can no longer tell), which creates a pending credit with a fresh Rr'
// that no payer will ever debit. The soak found it (seed 100001, case 42229). Two things must hold:
// the hostile visit's own checks know that the replayed proof is genuine (a card made it, though
// every record of it may be gone), and honest recovery releases the record and settles the release
// proof: waiting while its payer card is absent, closed with nothing to refund when it is presented.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../protocol/bytes.js';
import { INS, LOG_CAPACITY } from '../../protocol/settlement/commands.js';
import { genuinePayer } from '../adversary/invariants.js';
import { initialState } from '../adversary/world-state.js';
import { TwoCardWorld } from '../adversary/world-step.js';
import { visitRoot, withRecordedDebitProofs } from './adversary-visit.js';
import type { CampaignWorld, WorldCard } from './campaign-world.js';
import { startMemoryWorld } from './memory-world.js';
import { recoverUntilSettled, runOperation } from './operations.js';
import { unsettledOf } from './world-snapshot.js';

describe('a replayed honest INITIATE CREDIT whose record the payee has evicted', () => {
  let world: CampaignWorld;
  let payer: WorldCard;
  let payee: WorldCard;
  let other: WorldCard;
  let replay: Uint8Array;
  beforeAll(async () => {
    world = await startMemoryWorld({ seed: 42229, cards: 3 });
    [payer, payee, other] = world.active() as [WorldCard, WorldCard, WorldCard];
    const t = world.terminal();
    // Every card on one transfer key (a key update between would make the replayed proof fail: 6982).
    await world.place(other, payee);
    await t.engine.updateKeys();
    await world.place(payer, payee);
    await t.engine.updateKeys();
    expect(await runOperation(t, { kind: 'transfer', amount: 1 }, world.pin)).toMatchObject({
      status: 'completed',
    });
    replay = payee.recorded.findLast((apdu) => apdu[1] === INS.INITIATE_CREDIT)!;
    expect(replay).toBeDefined();
    // Another card pays the payee until its record of that transaction is evicted.
    await world.place(other, payee);
    for (let i = 0; i < LOG_CAPACITY; i++)
      expect(await runOperation(t, { kind: 'transfer', amount: 1 }, world.pin)).toMatchObject({
        status: 'completed',
      });
    expect(payee.state().creditLog.some((r) => r.txRandom === txRandomOf(replay))).toBe(false);
    expect(new Set([payer, payee, other].map((c) => c.state().transferKeyId)).size).toBe(1);
  }, 120_000);
  afterAll(async () => {
    await world?.close();
  });

  const txRandomOf = (apdu: Uint8Array) => toHex(apdu.subarray(5 + 26, 5 + 42));

  it('the card accepts it; the visit knows its debit proof is genuine, and a forged one is still caught', () => {
    const pair = { A: payee, B: other };
    const transferKey = world.transferKey(payee.state().transferKeyId)!;
    const root = visitRoot(pair, transferKey);
    const cards = new TwoCardWorld(root);
    const start = withRecordedDebitProofs(initialState(root.images), pair, transferKey);
    const next = cards.apply(start, { kind: 'raw', card: 'A', apdu: replay, what: 'replay' }, 0)!;
    expect(next.answer.sw).toBe(0x9000);
    expect(genuinePayer(next.state)).toEqual([]);
    // Without the recorded proofs the same state reads as a credit no debit proof backs.
    expect(genuinePayer({ ...next.state, issued: initialState(root.images).issued })).toEqual([
      expect.stringMatching(/A: a pending credit record \w+ that no payer card's debit proof backs/),
    ]);
    // A recorded APDU whose debit proof was altered is not taken for a genuine one.
    const forged = replay.slice();
    forged[forged.length - 2]! ^= 1;
    const tampered = {
      A: { state: () => payee.state(), recorded: [forged] } as unknown as WorldCard,
      B: other,
    };
    expect(withRecordedDebitProofs(initialState(root.images), tampered, transferKey).issued).toEqual(
      initialState(root.images).issued,
    );
    payee.overwrite(JSON.parse(next.state.images.A));
    expect(unsettledOf(payee.state())).toBe(1);
  });

  it('honest recovery releases it; the release waits for its payer, then closes with nothing to refund', async () => {
    const t = world.terminal();
    const before = world.cards().map((c) => c.state().balance);
    await world.place(other, payee);
    expect(await recoverUntilSettled(t)).toEqual([]);
    expect(unsettledOf(payee.state())).toBe(0);
    const waiting = t.recovery.inDoubt().deliveries;
    expect(waiting.map((d) => d.payerId)).toEqual([payer.holderId]);
    await world.place(payer, payee);
    expect(await recoverUntilSettled(t)).toEqual([]);
    expect(t.recovery.inDoubt()).toMatchObject({ transfers: [], deliveries: [], contents: [] });
    expect(world.cards().map((c) => c.state().balance)).toEqual(before);
    for (const c of [payer, payee, other]) expect(unsettledOf(c.state())).toBe(0);
  }, 60_000);
});
