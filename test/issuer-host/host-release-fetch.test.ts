// Release proofs travel through the issuer host to the payer card, through the terminal's own
// services (terminal-services.ts, as the hosts wire them, over the pinned TLS link): terminal A
// releases a payee's pending credit and uploads its journal; the payer card presented at terminal B
// gets its value back from the proof B fetches, journaled, and the host stops serving it once B
// uploaded. A host that answers junk, too much, another card's proofs or a forged one, a host that
// is down or slow: the sale goes on, the card changes only by a genuine proof, the error is reported.
// B's first host address is dead: the second one serves (failover).
import { createServer as createHttpsServer, type Server } from 'node:https';
import { describe, expect, it } from 'vitest';
import { MAX_ANSWER_BYTES, MAX_PROOFS } from '../../electron/services/recovery/host-release-proofs.js';
import { toHex } from '../../protocol/bytes.js';
import { randomBytes } from '../../protocol/crypto-suite.js';
import { RELEASE_PROOFS_PATH, type ReleaseProof } from '../../protocol/host-link/clearing-wire.js';
import { hostileReader, makeCard, TEST_PIN, type TestCard, testIssuer } from '../support/card-fixtures.js';
import { deadAddress } from '../support/dead-address.js';
import { deliveryErrors, useTillHost } from './terminal-services-fixtures.js';

const h = useTillHost('Release Fetch Test', testIssuer());
const world = h.world;
const tillOf = (terminalId: string, urls: string[], pins?: string[], timeoutMs?: number) =>
  h.till(terminalId, urls, pins, timeoutMs);

/** A hostile terminal left `payee` a pending credit of `amount` for which `payer`'s card debited. */
async function strand(payer: TestCard, payee: TestCard, amount: number) {
  const m = await hostileReader(payer);
  const p = await hostileReader(payee);
  await m.verifyPin(TEST_PIN);
  const terms = (c: TestCard) => ({
    counterpartId: c.holderId,
    currency: 978,
    amount,
    date: Math.floor(Date.now() / 1000),
  });
  const debit = await m.initiateDebit(terms(payee));
  const credit = await p.initiateCredit(terms(payer), debit);
  await m.debit(debit.txRandom, credit.rxRandom, credit.challenge);
  return { txRandom: toHex(debit.txRandom), rxRandom: toHex(credit.rxRandom) };
}

const errors = deliveryErrors;
const balance = (c: TestCard) => c.state().balance;

describe('release proofs fetched from the issuer host by the terminal services', () => {
  it('A releases and uploads; the payer presented at B (first address dead) is paid back, journaled once; the host then stops serving it', async () => {
    const mallory = await makeCard({ balance: 10_000 });
    const shop = await makeCard({ balance: 0 });
    const ids = { mallory: toHex(mallory.holderId), shop: toHex(shop.holderId) };
    const { txRandom } = await strand(mallory, shop, 3000);
    expect(balance(mallory)).toBe(7000);

    // Terminal A sees the shop card alone: the foreign pending credit is released, the proof journaled.
    const a = await tillOf('till-a', [h.host.url]);
    await a.place('payee', shop.sim.os);
    expect(a.s.recovery.pendingDeliveries()).toMatchObject([{ payerId: ids.mallory, txRandom }]);
    expect(await a.s.uploader!.sync()).toMatchObject({ ok: true, waiting: 0 });

    // Terminal B: its first address is dead, the second is the host.
    const b = await tillOf('till-b', [await deadAddress('https'), h.host.url]);
    await b.place('payer', mallory.sim.os);
    expect(errors(b)).toEqual([]);
    expect(balance(mallory)).toBe(10_000);
    expect(mallory.state().debitLog.find((r) => r.txRandom === txRandom)?.status).toBe('refunded');
    // B's journal: the delivered proof's flow, and the record adopted at insertion closed with it.
    const flows = b.s.flows.all().filter((f) => f.flowKind === 'value-transfer');
    const steps = flows.map((f) => b.s.journal.entriesForFlow(f.flowId).map((e) => `${e.step}`));
    expect(steps).toEqual(
      expect.arrayContaining([
        ['started', 'released', 'refunded'],
        ['started', 'debited', 'released', 'refunded'],
      ]),
    );
    expect(flows).toHaveLength(2);
    expect(b.s.recovery.inDoubt()).toEqual({ transfers: [], deliveries: [], contents: [] });
    expect(b.s.journal.verify()).toMatchObject({ ok: true });

    // Asked again before B uploaded: the card holds nothing the proof settles; nothing is journaled.
    const seq = b.s.journal.head().seq;
    const again = await b.s.releaseProofs!.fetchFor(ids.mallory);
    expect(again).toMatchObject({ taken: 1, delivered: [{ txRandom, outcome: 'nothing-to-settle' }] });
    expect(b.s.journal.head().seq).toBe(seq);
    expect(balance(mallory)).toBe(10_000);

    // B uploads: the host has the refund booked and serves the proof no more.
    expect(await b.s.uploader!.sync()).toMatchObject({ ok: true, waiting: 0 });
    expect(
      await b.s.host!.client.call<ReleaseProof[]>('GET', `${RELEASE_PROOFS_PATH}?card=${ids.mallory}`),
    ).toEqual([]);
    await a.s.close();
    await b.s.close();
  }, 60_000);

  it('a host that answers junk, too much, other cards’ or forged proofs, is slow or down: the sale completes, the card changes by nothing, each is reported', async () => {
    const mallory = await makeCard({ balance: 10_000 });
    const shop = await makeCard({ balance: 0 });
    const ids = { mallory: toHex(mallory.holderId), shop: toHex(shop.holderId) };
    const { txRandom, rxRandom } = await strand(mallory, shop, 3000);
    const genuineTerms = {
      payerId: ids.mallory,
      payeeId: ids.shop,
      amount: 3000,
      currency: 978,
      date: mallory.state().debitLog.find((r) => r.txRandom === txRandom)!.date,
      txRandom,
      rxRandom,
    };

    // A host of our own, pinned, that answers what the test says (or holds the request).
    const tls = world.hostTls();
    let answer: () => string = () => '[]';
    let held: (() => void) | undefined;
    let asked: () => void = () => {};
    const fake: Server = createHttpsServer(
      { cert: tls.certificatePem, key: tls.privateKeyPem, minVersion: 'TLSv1.3' },
      (_req, res) => {
        asked();
        if (held) return; // never answered: the terminal's timeout ends it
        res.writeHead(200, { 'content-type': 'application/json' }).end(answer());
      },
    );
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const url = `https://127.0.0.1:${(fake.address() as { port: number }).port}`;
    const b = await tillOf('till-junk', [url], [tls.pin], 500);
    const before = () => ({ card: mallory.backend.load(), seq: b.s.journal.head().seq });
    await b.place('payer', mallory.sim.os); // its pass adopts the debited record; the fake answers []
    const start = before();
    const unchanged = () => {
      expect(mallory.backend.load()).toBe(start.card);
      expect(b.s.journal.head().seq).toBe(start.seq);
    };
    const fetch = () => b.s.releaseProofs!.fetchFor(ids.mallory);

    answer = () => JSON.stringify({ proofs: [] });
    expect(await fetch()).toMatchObject({ code: 'E_INPUT_INVALID' });
    answer = () => `[${'"x",'.repeat(MAX_ANSWER_BYTES / 4)}"x"]`;
    expect(await fetch()).toMatchObject({ code: 'E_TRANSPORT' });
    answer = () => 'not json';
    expect(await fetch()).toMatchObject({ code: 'E_TRANSPORT' });
    unchanged();

    // Another card's proof, junk entries, and far more than the cap of well-formed proofs for txRandoms
    // the card never saw: none of them is sent to the card, nothing is journaled.
    answer = () =>
      JSON.stringify([
        { ...genuineTerms, payerId: ids.shop, payeeId: ids.mallory, releaseProof: toHex(randomBytes(16)) },
        { ...genuineTerms, amount: -5, releaseProof: toHex(randomBytes(16)) },
        null,
        ...Array.from({ length: 3 * MAX_PROOFS }, () => ({
          ...genuineTerms,
          txRandom: toHex(randomBytes(16)),
          releaseProof: toHex(randomBytes(16)),
        })),
      ]);
    const many = await fetch();
    expect(many).toMatchObject({ taken: MAX_PROOFS });
    expect(
      (many as { delivered: { outcome: string }[] }).delivered.every(
        (d) => d.outcome === 'nothing-to-settle',
      ),
    ).toBe(true);
    expect(errors(b).at(-1)).toMatchObject({ code: 'E_INPUT_INVALID', details: { refused: 3 } });
    unchanged();

    // A forged proof for the card's real record, twice: delivered once, refused by the card, reported.
    const forged = { ...genuineTerms, releaseProof: toHex(randomBytes(16)) };
    answer = () => JSON.stringify([forged, forged]);
    const refused = await fetch();
    expect(refused).toMatchObject({ taken: 1, delivered: [{ outcome: 'failed-no-value-moved' }] });
    expect(errors(b).at(-1)).toMatchObject({ code: 'E_CARD_STATUS', details: { txRandom } });
    expect(mallory.backend.load()).toBe(start.card);
    expect(balance(mallory)).toBe(7000);

    // A slow host: the request is held while the operator sells; the sale completes, the fetch times out.
    const shop2 = await makeCard({ balance: 0 });
    b.slots.insert('payee', shop2.sim.os);
    await b.settled();
    held = () => {};
    const arrived = new Promise<void>((r) => {
      asked = r;
    });
    const slow = fetch();
    await arrived;
    expect(await b.s.engine.transfer({ amount: 100 })).toMatchObject({ status: 'completed' });
    expect(await slow).toMatchObject({ code: 'E_TRANSPORT_TIMEOUT' });
    expect(balance(mallory)).toBe(6900);
    expect(balance(shop2)).toBe(100);

    // Down: reported, and the card still holds its debit for the genuine proof another time.
    held = undefined;
    fake.closeAllConnections();
    await new Promise((r) => fake.close(r));
    expect(await fetch()).toMatchObject({ code: 'E_TRANSPORT' });
    expect(mallory.state().debitLog.find((r) => r.txRandom === txRandom)?.status).toBe('debited');
    expect(b.s.journal.verify()).toMatchObject({ ok: true });
    await b.s.close();
  }, 60_000);
});
