// Seed 000 Figs. 6–8 on the cards: transmission and exchange complete, and when interrupted at any
// command (before or after the card acted) or torn at any persistent write, recovery from the
// cards' records leaves both cards entirely before or entirely after: nothing duplicated or lost.
import { describe, expect, it } from 'vitest';
import type { TearingDecision } from '../../card-sim/os/persistent-store.js';
import {
  exchangeContents,
  recoverExchange,
  recoverTransmission,
  transmitContent,
} from '../../electron/services/contents/content-flows.js';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { TerminalError } from '../../protocol/errors.js';
import { SESSION_MODE } from '../../protocol/settlement/session-keys.js';
import type { TestCard } from '../support/card-fixtures.js';
import { session, shopAndCustomer } from '../support/content-fixtures.js';

const CONTENT_INS = new Set([0x70, 0x72, 0x74, 0x76, 0x78, 0x7a, 0x7c]);
const noRecord = () => undefined;

/** Makes the n-th content command (counted over both cards) fail: before the card sees it, or after it acted. */
function interruptAt(cards: TestCard[], n: number, when: 'before' | 'after') {
  let count = 0;
  for (const card of cards) {
    const channel = card.client.channel;
    const transmit = channel.transmit.bind(channel);
    channel.transmit = async (apdu, opts) => {
      if (CONTENT_INS.has(apdu[1]!) && apdu[0] === 0x80 && count++ === n) {
        if (when === 'after') await transmit(apdu, opts);
        throw new TerminalError('E_TRANSPORT', `interrupted at content command #${n} (${when})`);
      }
      return transmit(apdu, opts);
    };
  }
}

function snapshot(customer: TestCard, shop: TestCard) {
  const c = customer.state();
  const s = shop.state();
  return {
    balances: [c.balance, s.balance],
    items: [c.contents.map((i) => i.id).sort(), s.contents.map((i) => i.id).sort()],
    locked: [...c.contents, ...s.contents].filter((i) => i.lockedBy).length,
    unsettled: [...c.contentLog, ...s.contentLog].filter((r) =>
      ['open', 'deleted', 'pending'].includes(r.status),
    ).length,
  };
}

describe('transmission (Figs. 6–7)', () => {
  it('moves an item; the terminal in the middle sees only ciphertext', async () => {
    const { customer, shop, item, ids } = await shopAndCustomer();
    const transcript: string[] = [];
    for (const card of [customer, shop]) {
      const ch = card.client.channel;
      const t = ch.transmit.bind(ch);
      ch.transmit = async (apdu, o) => {
        const r = await t(apdu, o);
        transcript.push(toHex(apdu), toHex(r));
        return r;
      };
    }
    await transmitContent(
      shop.client,
      customer.client,
      { sender: ids.b, receiver: ids.a },
      { item: fromHex(item.id) },
      noRecord,
    );
    expect(shop.state().contents).toEqual([]);
    expect(customer.state().contents.map((i) => i.id)).toEqual([item.id]);
    expect(transcript.join('')).not.toContain(item.body);
    expect(snapshot(customer, shop).unsettled).toBe(0);
  });

  it.each(
    Array.from({ length: 5 }, (_, n) => (['before', 'after'] as const).map((w) => [n, w] as const)).flat(),
  )('interrupted at content command #%i (%s) is recovered to before or after', async (n, when) => {
    const { customer, shop, item, ids } = await shopAndCustomer();
    const before = snapshot(customer, shop);
    let txId: Uint8Array | undefined;
    interruptAt([customer, shop], n, when);
    await transmitContent(
      shop.client,
      customer.client,
      { sender: ids.b, receiver: ids.a },
      { item: fromHex(item.id) },
      (step, p) => {
        if (step === 'sent') txId = fromHex(String(p.txId));
      },
    ).catch(() => undefined);
    await customer.reinsert();
    await shop.reinsert();
    if (txId) await recoverTransmission(shop.client, customer.client, txId, noRecord);
    else
      for (const r of await shop.client.unsettledContentTransfers())
        await recoverTransmission(shop.client, customer.client, r.txId, noRecord);
    const after = snapshot(customer, shop);
    expect(after.unsettled).toBe(0);
    expect(after.locked).toBe(0);
    const moved = { ...before, items: [[item.id], []] };
    expect([JSON.stringify(before), JSON.stringify(moved)]).toContain(JSON.stringify(after));
  });
});

describe('exchange (Fig. 8): a ticket for e-money', () => {
  it('swaps the ticket and the price in one atomic exchange', async () => {
    const { customer, shop, item, ids } = await shopAndCustomer();
    await exchangeContents(
      customer.client,
      shop.client,
      { initiator: ids.a, responder: ids.b },
      { amount: 1500 },
      { item: fromHex(item.id) },
      noRecord,
    );
    expect(snapshot(customer, shop)).toEqual({
      balances: [3500, 1500],
      items: [[item.id], []],
      locked: 0,
      unsettled: 0,
    });
  });

  it('needs the customer’s PIN to pay, and refuses more than the balance', async () => {
    const { customer, shop, item } = await shopAndCustomer();
    await customer.reinsert(); // owner mode ends
    const ids = await session(customer, shop, { a: SESSION_MODE.ISSUER });
    const before = snapshot(customer, shop);
    const buy = (amount: number) =>
      exchangeContents(
        customer.client,
        shop.client,
        { initiator: ids.a, responder: ids.b },
        { amount },
        { item: fromHex(item.id) },
        noRecord,
      );
    // Cardholder verification required, asked before the balance: even for more than the balance,
    // so the refusal says nothing of it.
    await expect(buy(100)).rejects.toMatchObject({ details: { sw: 0x9403 } });
    await expect(buy(999_999)).rejects.toMatchObject({ details: { sw: 0x9403 } });
    await customer.client.verifyPin('1234');
    await expect(buy(999_999)).rejects.toMatchObject({ details: { sw: 0x9401 } });
    expect(snapshot(customer, shop)).toEqual(before);
  });

  it('refuses content commands with another session ID and a replayed receive', async () => {
    const { customer, shop, item, ids } = await shopAndCustomer();
    const before = snapshot(customer, shop);
    await expect(
      shop.client.contentSend(
        0,
        0,
        ids.a.map((b) => b ^ 1),
        fromHex(item.id),
      ),
    ).rejects.toMatchObject({ details: { sw: 0x6982 } });
    const sent = await shop.client.contentSend(0, 0, ids.b, fromHex(item.id));
    const bad = sent.sealed.slice();
    bad[20]! ^= 1;
    await expect(customer.client.contentReceive(ids.a, sent.txId, undefined, bad)).rejects.toMatchObject({
      details: { sw: 0x6982 },
    });
    await customer.client.contentReceive(ids.a, sent.txId, undefined, sent.sealed);
    await expect(
      customer.client.contentReceive(ids.a, sent.txId, undefined, sent.sealed),
    ).rejects.toMatchObject({ details: { sw: 0x6985 } });
    await recoverTransmission(shop.client, customer.client, sent.txId, noRecord);
    expect(snapshot(customer, shop)).toEqual(before);
  });

  it('will not let the responder give up its half without the initiator’s abort proof', async () => {
    const { customer, shop, item, ids } = await shopAndCustomer();
    const x = await customer.client.contentSend(1, 1, ids.a, 1500);
    await shop.client.contentReceive(ids.b, x.txId, undefined, x.sealed);
    const y = await shop.client.contentSend(0, 2, ids.b, fromHex(item.id), x.txId);
    const before = shop.state();
    await expect(shop.client.contentAbort(y.txId)).rejects.toMatchObject({ details: { sw: 0x6982 } });
    expect(shop.state()).toEqual(before);
  });

  // Content commands of a full exchange: X send, X receive, Y send, Y receive, X commit, X accept, Y accept, Y ack.
  it.each(
    Array.from({ length: 8 }, (_, n) => (['before', 'after'] as const).map((w) => [n, w] as const)).flat(),
  )('interrupted at content command #%i (%s) ends entirely before or entirely after', async (n, when) => {
    const { customer, shop, item, ids } = await shopAndCustomer();
    const before = snapshot(customer, shop);
    const journal: Record<string, string> = {};
    interruptAt([customer, shop], n, when);
    await exchangeContents(
      customer.client,
      shop.client,
      { initiator: ids.a, responder: ids.b },
      { amount: 1500 },
      { item: fromHex(item.id) },
      (_s, p) => Object.assign(journal, p),
    ).catch(() => undefined);
    await customer.reinsert();
    await shop.reinsert();
    const first = journal.firstTxId ?? (await customer.client.unsettledContentTransfers())[0]?.txId;
    if (first) {
      await recoverExchange(
        customer.client,
        shop.client,
        typeof first === 'string' ? fromHex(first) : first,
        noRecord,
        journal.secondTxId ? fromHex(journal.secondTxId) : undefined,
      );
    }
    const after = snapshot(customer, shop);
    const swapped = { balances: [3500, 1500], items: [[item.id], []], locked: 0, unsettled: 0 };
    expect([JSON.stringify(before), JSON.stringify(swapped)]).toContain(JSON.stringify(after));
  });

  it.each(['cut-before-write', 'cut-after-write'] as const)(
    'torn at every persistent write (%s) ends entirely before or after',
    async (decision: TearingDecision) => {
      // Count the persistent writes of a clean exchange, then cut at each one in turn.
      const probe = await shopAndCustomer();
      const base = [probe.customer.sim.store.commitCount, probe.shop.sim.store.commitCount];
      await exchangeContents(
        probe.customer.client,
        probe.shop.client,
        { initiator: probe.ids.a, responder: probe.ids.b },
        { amount: 1500 },
        { item: fromHex(probe.item.id) },
        noRecord,
      );
      const writes = [
        probe.customer.sim.store.commitCount - base[0]!,
        probe.shop.sim.store.commitCount - base[1]!,
      ];
      for (const [who, count] of writes.entries()) {
        for (let k = 0; k < count; k++) {
          const { customer, shop, item, ids } = await shopAndCustomer();
          const before = snapshot(customer, shop);
          const victim = [customer, shop][who]!;
          const start = victim.sim.store.commitCount;
          victim.sim.store.tearing = (i) => (i === start + k ? decision : 'proceed');
          const journal: Record<string, string> = {};
          await exchangeContents(
            customer.client,
            shop.client,
            { initiator: ids.a, responder: ids.b },
            { amount: 1500 },
            { item: fromHex(item.id) },
            (_s, p) => Object.assign(journal, p),
          ).catch(() => undefined);
          victim.sim.store.tearing = undefined;
          await customer.reinsert();
          await shop.reinsert();
          const first = journal.firstTxId
            ? fromHex(journal.firstTxId)
            : (await customer.client.unsettledContentTransfers())[0]?.txId;
          if (first)
            await recoverExchange(
              customer.client,
              shop.client,
              first,
              noRecord,
              journal.secondTxId ? fromHex(journal.secondTxId) : undefined,
            );
          const after = snapshot(customer, shop);
          const swapped = { balances: [3500, 1500], items: [[item.id], []], locked: 0, unsettled: 0 };
          expect([JSON.stringify(before), JSON.stringify(swapped)], `card ${who} write ${k}`).toContain(
            JSON.stringify(after),
          );
        }
      }
    },
  );
});
