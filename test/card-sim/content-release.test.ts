// Release and return of contents (docs/protocol.md §9.1): a receiver gives up a pending transfer and
// signs a release proof; the sender takes it and gets its item (restored from its record, body and all)
// or its value back. Exactly one of {acceptance, release proof} per transfer, and in an exchange
// neither card ends with both halves or with neither. Refusals leave the memory byte for byte.
import { describe, expect, it } from 'vitest';
import { recoverExchange, recoverTransmission } from '../../electron/services/contents/content-flows.js';
import { fromHex } from '../../protocol/bytes.js';
import { ecdsaSign, randomBytes } from '../../protocol/crypto-suite.js';
import {
  CONTENT_SIGNATURE_LABEL,
  contentSignatureMessage,
  encodeItem,
  payloadDigest,
} from '../../protocol/settlement/contents-codec.js';
import type { TestCard } from '../support/card-fixtures.js';
import { issue, shopAndCustomer, ticket } from '../support/content-fixtures.js';
import { refusedWith } from '../support/refusals.js';

const image = (card: TestCard) => card.backend.load()!;
const noRecord = () => undefined;
const status = async (card: TestCard, txId: Uint8Array, direction: 'in' | 'out') =>
  (await card.client.contentStatus(txId)).find((r) => r.direction === direction)!;

function holdings(customer: TestCard, shop: TestCard) {
  const c = customer.state();
  const s = shop.state();
  return {
    balances: [c.balance, s.balance],
    items: [c.contents, s.contents].map((list) => list.map((i) => ({ ...i, lockedBy: undefined }))),
    locked: [...c.contents, ...s.contents].filter((i) => i.lockedBy).length,
    unsettled: [...c.contentLog, ...s.contentLog].filter((r) =>
      ['open', 'deleted', 'pending'].includes(r.status),
    ).length,
  };
}

describe('CONTENT RELEASE and CONTENT RETURN, transmission', () => {
  it('gives a ticket back to its sender after the sender deleted it: restored whole, and never accepted', async () => {
    const { customer, shop, item, ids } = await shopAndCustomer();
    const before = holdings(customer, shop);
    const { txId, sealed } = await shop.client.contentSend(0, 0, ids.b, fromHex(item.id));
    const commit = await customer.client.contentReceive(ids.a, txId, undefined, sealed);
    const deletion = await shop.client.contentCommit(txId, commit);
    expect(shop.state().contents).toEqual([]);

    const proof = await customer.client.contentRelease(txId);
    expect(await customer.client.contentRelease(txId)).toEqual(proof); // the same proof when repeated
    expect(await status(customer, txId, 'in')).toMatchObject({ status: 'released', proof });
    // Released: the deletion proof no longer makes it the customer's.
    const receiver = image(customer);
    await refusedWith(customer.client.contentAccept(txId, deletion), 0x6985);
    expect(image(customer)).toBe(receiver);

    await shop.client.contentReturn(txId, proof);
    expect(await status(shop, txId, 'out')).toMatchObject({ status: 'returned', proof });
    expect(holdings(customer, shop)).toEqual(before); // the ticket is back on the shop, body and all
    expect(shop.state().contents[0]).toEqual(item);
    const sender = image(shop);
    await shop.client.contentReturn(txId, proof); // idempotent
    expect(image(shop)).toBe(sender);
    // Recovery reads the returned record as rolled back.
    const steps: string[] = [];
    expect(await recoverTransmission(shop.client, customer.client, txId, (s) => steps.push(s))).toBe(
      'rolled-back',
    );
  });

  it('a release before the sender committed aborts the sender’s transfer and unlocks the item', async () => {
    const { customer, shop, item, ids } = await shopAndCustomer();
    const before = holdings(customer, shop);
    const { txId, sealed } = await shop.client.contentSend(0, 0, ids.b, fromHex(item.id));
    const commit = await customer.client.contentReceive(ids.a, txId, undefined, sealed);
    const proof = await customer.client.contentRelease(txId);
    await shop.client.contentReturn(txId, proof);
    expect(await status(shop, txId, 'out')).toMatchObject({ status: 'aborted' });
    expect(holdings(customer, shop)).toEqual(before);
    await refusedWith(shop.client.contentCommit(txId, commit), 0x6985); // never given now
  });

  it('pays value back: a purse’s deleted value half returns to its balance', async () => {
    const { customer, shop, ids } = await shopAndCustomer();
    const { txId, sealed } = await customer.client.contentSend(1, 0, ids.a, 1200);
    const commit = await shop.client.contentReceive(ids.b, txId, undefined, sealed);
    await customer.client.contentCommit(txId, commit);
    expect(customer.state().balance).toBe(3800);
    await customer.client.contentReturn(txId, await shop.client.contentRelease(txId));
    expect([customer.state().balance, shop.state().balance]).toEqual([5000, 0]);
  });

  it('refuses what is not a release of this transfer, and what cannot be released, changing nothing', async () => {
    const { customer, shop, item, ids } = await shopAndCustomer();
    const second = ticket();
    await issue(shop, second);
    const x = await shop.client.contentSend(0, 0, ids.b, fromHex(item.id));
    const commitX = await customer.client.contentReceive(ids.a, x.txId, undefined, x.sealed);
    await shop.client.contentCommit(x.txId, commitX);
    const y = await shop.client.contentSend(0, 0, ids.b, fromHex(second.id));
    await customer.client.contentReceive(ids.a, y.txId, undefined, y.sealed);
    const proofY = await customer.client.contentRelease(y.txId);
    const [sc, ss] = [image(customer), image(shop)];
    await refusedWith(shop.client.contentReturn(x.txId, proofY), 0x6982); // another transfer's release
    await refusedWith(shop.client.contentReturn(x.txId, commitX), 0x6982); // a commit instruction is no release
    await refusedWith(shop.client.contentReturn(randomBytes(16), proofY), 0x6a88);
    await refusedWith(customer.client.contentRelease(randomBytes(16)), 0x6a88);
    await refusedWith(customer.client.contentReturn(x.txId, proofY), 0x6a88); // the receiver has no outgoing record
    await refusedWith(shop.client.command(0x44, 0, new Uint8Array(15)), 0x6700);
    await refusedWith(shop.client.command(0x46, 1, new Uint8Array(40)), 0x6a86);
    expect([image(customer), image(shop)]).toEqual([sc, ss]);
  });

  it('never releases an accepted transfer, and never returns an acknowledged one', async () => {
    const { customer, shop, item, ids } = await shopAndCustomer();
    const { txId, sealed } = await shop.client.contentSend(0, 0, ids.b, fromHex(item.id));
    const commit = await customer.client.contentReceive(ids.a, txId, undefined, sealed);
    const acceptance = await customer.client.contentAccept(
      txId,
      await shop.client.contentCommit(txId, commit),
    );
    await shop.client.contentAcknowledge(txId, acceptance);
    const [sc, ss] = [image(customer), image(shop)];
    await refusedWith(customer.client.contentRelease(txId), 0x6985);
    // A release proof signed with the customer's key, as only a compromised card could make one now.
    const forged = ecdsaSign(
      fromHex(customer.state().cardPrivateKey),
      contentSignatureMessage(CONTENT_SIGNATURE_LABEL.RELEASE_PROOF, {
        txId,
        senderId: shop.holderId,
        receiverId: customer.holderId,
        digest: payloadDigest(encodeItem(item)),
      }),
    );
    await refusedWith(shop.client.contentReturn(txId, forged), 0x6985);
    expect([image(customer), image(shop)]).toEqual([sc, ss]);
  });

  it('keeps a slot and the ID for an item that may come back', async () => {
    const { customer, shop, item, ids } = await shopAndCustomer();
    for (let i = 0; i < 15; i++) await issue(shop, ticket()); // 16 items: full
    const { txId, sealed } = await shop.client.contentSend(0, 0, ids.b, fromHex(item.id));
    await shop.client.contentCommit(
      txId,
      await customer.client.contentReceive(ids.a, txId, undefined, sealed),
    );
    expect(shop.state().contents).toHaveLength(15);
    await expect(issue(shop, ticket())).rejects.toMatchObject({ details: { sw: 0x6a84 } }); // reserved
    await expect(issue(shop, { ...ticket(), id: item.id })).rejects.toMatchObject({
      details: { sw: 0x6a80 },
    });
    await shop.client.contentReturn(txId, await customer.client.contentRelease(txId));
    expect(shop.state().contents).toHaveLength(16);
    expect(shop.state().contents.some((i) => i.id === item.id && !i.lockedBy)).toBe(true);
  });
});

describe('CONTENT RELEASE in an exchange (a ticket for e-money)', () => {
  async function exchangeUpTo(stage: 'second-received' | 'first-committed') {
    const f = await shopAndCustomer();
    const { customer, shop, item, ids } = f;
    const x = await customer.client.contentSend(1, 1, ids.a, 1500); // the customer pays 15.00
    const commitX = await shop.client.contentReceive(ids.b, x.txId, undefined, x.sealed);
    const y = await shop.client.contentSend(0, 2, ids.b, fromHex(item.id), x.txId); // the ticket
    await customer.client.contentReceive(ids.a, y.txId, x.txId, y.sealed);
    if (stage === 'first-committed') await customer.client.contentCommit(x.txId, commitX);
    return { ...f, x, y, commitX };
  }

  it.each(['second-received', 'first-committed'] as const)(
    'the responder gives the first half back (%s): both cards end as before, neither holds both halves',
    async (stage) => {
      const { customer, shop, x, y, commitX } = await exchangeUpTo(stage);
      const before = { balances: [5000, 0], items: [[], [shop.state().contents[0]!.id]] };
      const proofX = await shop.client.contentRelease(x.txId);
      // The shop's own half was aborted in the same write: its ticket is unlocked, and it can never
      // give it for this exchange (accepting the first half is over too).
      expect(await status(shop, y.txId, 'out')).toMatchObject({ status: 'aborted' });
      expect(shop.state().contents[0]!.lockedBy).toBeUndefined();
      if (stage === 'second-received') await customer.client.contentCommit(x.txId, commitX); // still possible
      await refusedWith(
        shop.client.contentAccept(x.txId, (await status(customer, x.txId, 'out')).proof!),
        0x6985,
      );
      await customer.client.contentReturn(x.txId, proofX);
      expect(await status(customer, x.txId, 'out')).toMatchObject({ status: 'returned' });
      expect(await status(customer, y.txId, 'in')).toMatchObject({ status: 'discarded' });
      const after = holdings(customer, shop);
      expect({ balances: after.balances, items: after.items.map((l) => l.map((i) => i.id)) }).toEqual(before);
      expect(after).toMatchObject({ locked: 0, unsettled: 0 });
    },
  );

  it('the initiator never releases the second half, and the responder’s own half is never returned', async () => {
    const { customer, shop, y } = await exchangeUpTo('first-committed');
    const [sc, ss] = [image(customer), image(shop)];
    await refusedWith(customer.client.contentRelease(y.txId), 0x6985);
    // Not even with a signature the initiator's key made for it.
    const yOut = await status(shop, y.txId, 'out');
    const forged = ecdsaSign(
      fromHex(customer.state().cardPrivateKey),
      contentSignatureMessage(CONTENT_SIGNATURE_LABEL.RELEASE_PROOF, {
        txId: y.txId,
        senderId: shop.holderId,
        receiverId: customer.holderId,
        digest: yOut.digest,
        linkTxId: yOut.linkTxId,
      }),
    );
    await refusedWith(shop.client.contentReturn(y.txId, forged), 0x6985);
    expect([image(customer), image(shop)]).toEqual([sc, ss]);
  });

  it('recovery delivers a release it finds on the responder: the exchange rolls back', async () => {
    const { customer, shop, x, y } = await exchangeUpTo('first-committed');
    await shop.client.contentRelease(x.txId);
    const steps: string[] = [];
    expect(await recoverExchange(customer.client, shop.client, x.txId, (s) => steps.push(s), y.txId)).toBe(
      'rolled-back',
    );
    // The release is journaled, then CONTENT RETURN closes the flow (docs/journal.md).
    expect(steps).toEqual(['released', 'refunded']);
    expect([customer.state().balance, shop.state().balance]).toEqual([5000, 0]);
    expect(holdings(customer, shop)).toMatchObject({ locked: 0, unsettled: 0 });
    expect(await recoverExchange(customer.client, shop.client, x.txId, noRecord, y.txId)).toBe('rolled-back');
  });
});
