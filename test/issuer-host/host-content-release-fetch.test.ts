// Content release proofs travel through the issuer host to the sender card, through the terminal's own
// services (terminal-services.ts, as the hosts wire them, over the pinned TLS link). A shop's till
// (the fixture terminal, whose faults the tests arm) loses a send or an exchange after the sender
// committed it; the receiver alone at terminal A releases it (CONTENT RELEASE) and A uploads; the
// sender card presented at terminal B gets its ticket or value back from the proof B fetches
// (CONTENT RETURN), journaled in a flow of its own, and the host stops serving the proof once B
// uploaded, booking nothing twice. A host that answers another card's proofs, a garbage proof or too
// much: the card changes by nothing, each is reported.
import { createServer as createHttpsServer, type Server } from 'node:https';
import { describe, expect, it } from 'vitest';
import { ContentEngine } from '../../electron/services/contents/content-engine.js';
import { MAX_ANSWER_BYTES } from '../../electron/services/recovery/host-release-proofs.js';
import { toHex } from '../../protocol/bytes.js';
import { randomBytes } from '../../protocol/crypto-suite.js';
import {
  CONTENT_RELEASE_PROOFS_PATH,
  type ContentReleaseProof,
} from '../../protocol/host-link/clearing-wire.js';
import { INS } from '../../protocol/settlement/commands.js';
import { arm } from '../support/card-faults.js';
import { TEST_PIN, testIssuer } from '../support/card-fixtures.js';
import { createUnderRight, ticket } from '../support/content-fixtures.js';
import { makeTerminal, terminalRecovery } from '../support/terminal-fixtures.js';
import { legs, proofAlerts } from './content-clearing-fixtures.js';
import { deliveryErrors, type Till, useTillHost } from './terminal-services-fixtures.js';

const issuer = testIssuer();
const h = useTillHost('Content Release Fetch Test', issuer);
const world = h.world;
const tillOf = (terminalId: string, urls?: string[], pins?: string[], timeoutMs?: number) =>
  h.till(terminalId, urls, pins, timeoutMs);

const START = 5_000;

/** The shop's till: a customer card (payer, owner PIN verified) and the shop's issuer card (payee) with a ticket. */
async function shopTill() {
  const t = makeTerminal({
    issuer,
    payer: { balance: START },
    payee: { balance: 0, issuerCard: true, pin: '0000' },
  });
  const contents = new ContentEngine(t.engine, { journal: t.journal, flows: t.flows, slots: t.slots });
  const item = ticket(issuer);
  await t.engine.withCards(async (cards) => {
    const s = await cards.session('payee');
    await createUnderRight(issuer, s.client, s.info.holderId, cards.now(), item);
  });
  await t.engine.login('payer', TEST_PIN);
  await contents.authenticate();
  const cards = { customer: t.cards.payer, shop: t.cards.payee };
  const ids = { customer: cards.customer.store.read().holderId, shop: cards.shop.store.read().holderId };
  /** Both cards out of the till, for the other terminals' readers. */
  const pullBoth = () => {
    for (const s of ['payer', 'payee'] as const) {
      t.slots.clearFaults(s);
      t.slots.remove(s);
    }
  };
  return { t, contents, item, cards, ids, pullBoth };
}
type Shop = Awaited<ReturnType<typeof shopTill>>;

const outRecord = (card: Shop['cards']['shop'], txId: string) =>
  card.store.read().contentLog.find((r) => r.txId === txId && r.direction === 'out');

/** The receiver alone at a new terminal A, which releases the transfer; A uploads. Its transfer ID. */
async function releasedAtA(shop: Shop, receiver: 'customer' | 'shop', name: string): Promise<string> {
  shop.pullBoth();
  const a = await tillOf(name);
  await a.place('payee', shop.cards[receiver].os);
  const released = a.s.journal
    .entriesForFlow(a.s.flows.all().at(-1)!.flowId)
    .find((e) => e.step === 'released');
  expect(released?.payload.releaseProof).toMatch(/^[0-9A-F]+$/);
  expect(await a.s.uploader!.sync()).toMatchObject({ ok: true, waiting: 0 });
  const txId = a.s.journal.entriesForFlow(a.s.flows.all().at(-1)!.flowId)[0]!.payload;
  a.slots.remove('payee');
  await a.s.close();
  return String(txId.txId ?? txId.firstTxId);
}

/** The sender card at terminal B: the proof fetched and taken; B's journal says so; B uploads. */
async function returnedAtB(b: Till, sender: Shop['cards']['shop'], senderId: string, txId: string) {
  expect(await b.s.host!.client.call<ContentReleaseProof[]>('GET', proofsOf(senderId))).toMatchObject([
    { senderId, txId },
  ]);
  await b.place('payer', sender.os);
  expect(deliveryErrors(b)).toEqual([]);
  expect(outRecord(sender, txId)?.status).toBe('returned');
  const delivered = b.s.flows
    .all()
    .map((f) => b.s.journal.entriesForFlow(f.flowId))
    .filter((entries) => entries[0]!.payload.origin === 'delivered');
  expect(delivered.map((entries) => entries.map((e) => e.step))).toEqual([
    ['started', 'released', 'refunded'],
  ]);
  expect(b.s.recovery.inDoubt().contents).toEqual([]);
  expect(b.s.journal.verify()).toMatchObject({ ok: true });

  // Asked again before B uploaded: the card holds nothing the proof settles; nothing is journaled.
  const seq = b.s.journal.head().seq;
  expect(await b.s.releaseProofs!.fetchContentFor(senderId)).toMatchObject({
    taken: 1,
    delivered: [{ txId, outcome: 'nothing-to-settle' }],
  });
  expect(b.s.journal.head().seq).toBe(seq);

  // B uploads: the host serves the proof no more; the leg (if any) is voided once, no exception, no alert.
  expect(await b.s.uploader!.sync()).toMatchObject({ ok: true, waiting: 0 });
  expect(await b.s.host!.client.call('GET', proofsOf(senderId))).toEqual([]);
  expect(await h.db.query('SELECT * FROM ledger_exceptions')).toEqual([]);
  expect(await proofAlerts(h.db)).toEqual([]);
}

const proofsOf = (card: string) => `${CONTENT_RELEASE_PROOFS_PATH}?card=${card}`;

describe('content release proofs fetched from the issuer host by the terminal services', () => {
  it('a ticket the shop sent, released by the customer at A, is back on the shop card at B', async () => {
    const shop = await shopTill();
    arm(shop.t, 'payee', INS.CONTENT_COMMIT, 'pulled-after');
    expect(await shop.contents.send({ from: 'payee', itemId: shop.item.id })).toMatchObject({
      status: 'interrupted',
    });
    const held = () => shop.cards.shop.store.read().contents.find((c) => c.id === shop.item.id);
    expect(held()).toBeUndefined(); // committed: it left the shop card
    const txId = await releasedAtA(shop, 'customer', 'till-ticket-a');
    const b = await tillOf('till-ticket-b');
    await returnedAtB(b, shop.cards.shop, shop.ids.shop, txId);
    expect(held()).toMatchObject({ id: shop.item.id });
    expect(shop.cards.customer.store.read().contents).toEqual([]);
    await b.s.close();
  }, 60_000);

  it('e-money the customer sent, released by the shop card at A, is back in the customer’s purse at B', async () => {
    const shop = await shopTill();
    arm(shop.t, 'payer', INS.CONTENT_COMMIT, 'pulled-after');
    expect(await shop.contents.send({ from: 'payer', amount: 1_200 })).toMatchObject({
      status: 'interrupted',
    });
    expect(shop.cards.customer.store.read().balance).toBe(START - 1_200);
    const txId = await releasedAtA(shop, 'shop', 'till-send-a');
    const key = `${shop.ids.customer}:${txId}`;
    expect((await legs(h.db)).filter((l) => l.transfer_key === key).map((l) => l.phase)).toEqual([
      'pending',
      'void',
    ]);
    const b = await tillOf('till-send-b');
    await returnedAtB(b, shop.cards.customer, shop.ids.customer, txId);
    expect(shop.cards.customer.store.read().balance).toBe(START);
    expect(shop.cards.shop.store.read().balance).toBe(0);
    expect((await legs(h.db)).filter((l) => l.transfer_key === key).map((l) => l.phase)).toEqual([
      'pending',
      'void',
    ]);
    await b.s.close();
  }, 60_000);

  it('an exchange’s first half, released by the responder at A: the initiator’s value restored at B, the ticket half discarded', async () => {
    const shop = await shopTill();
    arm(shop.t, 'payer', INS.CONTENT_COMMIT, 'pulled-after');
    expect(
      await shop.contents.exchange({
        initiator: 'payer',
        give: { amount: 900 },
        take: { itemId: shop.item.id },
      }),
    ).toMatchObject({ status: 'interrupted' });
    expect(shop.cards.customer.store.read().balance).toBe(START - 900);
    const txId = await releasedAtA(shop, 'shop', 'till-exchange-a');
    const b = await tillOf('till-exchange-b');
    await returnedAtB(b, shop.cards.customer, shop.ids.customer, txId);
    expect(shop.cards.customer.store.read().balance).toBe(START);
    const log = shop.cards.customer.store.read().contentLog;
    expect(log.find((r) => r.direction === 'in')?.status).toBe('discarded');
    expect(shop.cards.customer.store.read().contents).toEqual([]);
    expect(shop.cards.shop.store.read().contents.map((c) => c.id)).toEqual([shop.item.id]);
    await b.s.close();
  }, 60_000);

  it('at the till where the exchange was interrupted, the delivery closes that till’s own exchange flow too', async () => {
    const shop = await shopTill();
    arm(shop.t, 'payer', INS.CONTENT_COMMIT, 'pulled-after');
    await shop.contents.exchange({
      initiator: 'payer',
      give: { amount: 900 },
      take: { itemId: shop.item.id },
    });
    const [own] = shop.contents.openFlows();
    expect(own).toMatchObject({ kind: 'content-exchange', fromId: shop.ids.customer });
    const txId = await releasedAtA(shop, 'shop', 'till-own-a');
    // The till's recovery surface, with the proofs as any registered terminal reads them from the host.
    const c = await tillOf('till-own-c');
    const proofs = await c.s.host!.client.call<ContentReleaseProof[]>('GET', proofsOf(shop.ids.customer));
    await c.s.close();
    shop.t.slots.insert('payer', shop.cards.customer.os);
    const recovery = terminalRecovery(shop.t);
    // Alone, the initiator's exchange waits for its responder: recovery leaves it open.
    await recovery.run();
    expect(shop.contents.openFlows().map((f) => f.flowId)).toEqual([own!.flowId]);
    const [delivered] = await recovery.deliverFetchedContent(shop.ids.customer, proofs);
    expect(delivered).toMatchObject({ txId, outcome: 'rolled-back' });
    expect(shop.cards.customer.store.read().balance).toBe(START);
    expect(shop.contents.openFlows()).toEqual([]);
    expect(shop.t.journal.entriesForFlow(own!.flowId).at(-1)).toMatchObject({
      step: 'refunded',
      payload: { returned: true },
    });
    // Delivered again (the host had not seen the upload yet): nothing to settle, nothing journaled.
    const seq = shop.t.journal.head().seq;
    expect(await recovery.deliverFetchedContent(shop.ids.customer, proofs)).toEqual([
      { txId, outcome: 'nothing-to-settle' },
    ]);
    expect(shop.t.journal.head().seq).toBe(seq);
  }, 60_000);

  it('a host that answers another card’s proof, a garbage proof or too much: the card changes by nothing, each is reported', async () => {
    const shop = await shopTill();
    arm(shop.t, 'payer', INS.CONTENT_COMMIT, 'pulled-after');
    await shop.contents.send({ from: 'payer', amount: 700 });
    shop.pullBoth();
    const txId = toHex(
      Buffer.from(
        shop.cards.customer.store.read().contentLog.find((r) => r.direction === 'out')!.txId,
        'hex',
      ),
    );
    const genuine: ContentReleaseProof = {
      kind: 'send',
      senderId: shop.ids.customer,
      receiverId: shop.ids.shop,
      txId,
      releaseProof: toHex(randomBytes(70)),
      offer: { amount: 700, currency: 978 },
    };

    // A host of our own, pinned, that answers what the test says.
    const tls = world.hostTls();
    let answer: () => string = () => '[]';
    const fake: Server = createHttpsServer(
      { cert: tls.certificatePem, key: tls.privateKeyPem, minVersion: 'TLSv1.3' },
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(answer());
      },
    );
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const url = `https://127.0.0.1:${(fake.address() as { port: number }).port}`;
    const b = await tillOf('till-content-junk', [url], [tls.pin], 2_000);
    await b.place('payer', shop.cards.customer.os); // its pass asks the fake, which answers []
    const card = () => JSON.stringify(shop.cards.customer.store.read());
    const start = { card: card(), seq: b.s.journal.head().seq };
    const fetch = () => b.s.releaseProofs!.fetchContentFor(shop.ids.customer);

    // Another card's proof (the shop's as sender), and a malformed entry: refused, nothing journaled.
    answer = () =>
      JSON.stringify([
        { ...genuine, senderId: shop.ids.shop, receiverId: shop.ids.customer },
        { ...genuine, offer: { amount: 700, currency: 978, itemId: '00' } },
        { ...genuine, releaseProof: 'zz' },
      ]);
    expect(await fetch()).toMatchObject({ taken: 0, delivered: [] });
    expect(deliveryErrors(b).at(-1)).toMatchObject({ code: 'E_INPUT_INVALID', details: { refused: 3 } });
    expect(card()).toBe(start.card);
    expect(b.s.journal.head().seq).toBe(start.seq);

    // Too much, or not a list.
    answer = () => `[${'"x",'.repeat(MAX_ANSWER_BYTES / 4)}"x"]`;
    expect(await fetch()).toMatchObject({ code: 'E_TRANSPORT' });
    answer = () => JSON.stringify({ proofs: [genuine] });
    expect(await fetch()).toMatchObject({ code: 'E_INPUT_INVALID' });
    expect(card()).toBe(start.card);
    expect(b.s.journal.head().seq).toBe(start.seq);

    // A garbage proof for the card's real transfer, twice: delivered once, refused by the card, reported.
    answer = () => JSON.stringify([genuine, genuine]);
    const refused = await fetch();
    expect(refused).toMatchObject({ taken: 1, delivered: [{ txId, outcome: 'failed-no-value-moved' }] });
    expect(deliveryErrors(b).at(-1)).toMatchObject({ code: 'E_CARD_STATUS', details: { txId } });
    expect(card()).toBe(start.card);
    expect(shop.cards.customer.store.read().balance).toBe(START - 700);
    const flows = b.s.flows.all().map((f) => b.s.journal.entriesForFlow(f.flowId));
    expect(flows.at(-1)!.map((e) => e.step)).toEqual(['started', 'released', 'failed-no-value-moved']);
    expect(b.s.recovery.inDoubt().contents).toEqual([]);
    expect(b.s.journal.verify()).toMatchObject({ ok: true });
    fake.closeAllConnections();
    await new Promise((r) => fake.close(r));
    await b.s.close();
  }, 60_000);
});
