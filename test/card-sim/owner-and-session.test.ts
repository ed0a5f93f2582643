// Seed 000 on the card: owner PIN, card-to-card mutual authentication, access levels enforced by
// the card, and issuing contents only under a create right. Every refusal leaves state unchanged.
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { generateP256KeyPair, randomBytes } from '../../protocol/crypto-suite.js';
import { createCaCertificate, issueCardCertificate } from '../../protocol/pki/index.js';
import { INS } from '../../protocol/settlement/commands.js';
import { SESSION_MODE } from '../../protocol/settlement/session-keys.js';
import { makeCard, makePair, NOW, testIssuer } from '../support/card-fixtures.js';
import { createRight, issue, session, ticket } from '../support/content-fixtures.js';
import { refusedWith } from '../support/refusals.js';

describe('owner PIN (owner mode)', () => {
  it('opens the balance on the right PIN and counts wrong ones down to a block', async () => {
    const a = await makeCard({ pin: '2468', pinTryLimit: 3 });
    await refusedWith(a.client.getBalance(), 0x6982);
    expect(await a.client.pinStatus()).toBe(3);
    await refusedWith(a.client.verifyPin('1111'), 0x63c2);
    await refusedWith(a.client.verifyPin('2222'), 0x63c1);
    await a.client.verifyPin('2468'); // a right PIN resets the counter
    expect(await a.client.pinStatus()).toBe('verified');
    expect((await a.client.getBalance()).balance).toBe(10_000);
    await a.reinsert(); // owner mode ends with the card session
    await refusedWith(a.client.getBalance(), 0x6982);
    expect(a.state().owner?.tries).toBe(3);
    for (const [pin, sw] of [
      ['0000', 0x63c2],
      ['0001', 0x63c1],
      ['0002', 0x6983],
    ] as const) {
      await refusedWith(a.client.verifyPin(pin), sw);
    }
    await refusedWith(a.client.verifyPin('2468'), 0x6983); // blocked: even the right PIN is refused
    expect(await a.client.pinStatus()).toBe(0);
    await refusedWith(a.client.getBalance(), 0x6982);
  });

  it('is unblocked by the issuer’s unblock code, which has its own counter', async () => {
    const issuer = testIssuer();
    const a = await makeCard({ pin: '2468' });
    for (const pin of ['0000', '0001', '0002']) await a.client.verifyPin(pin).catch(() => undefined);
    const puk = issuer.issued.find((c) => c.holderId === toHex(a.holderId))!.puk!;
    await refusedWith(
      a.client.resetRetryCounter('00000000' === puk ? '11111111' : '00000000', '5555'),
      0x63c9,
    );
    const before = a.state();
    await refusedWith(a.client.resetRetryCounter(puk, '12'), 0x6700);
    await refusedWith(a.client.resetRetryCounter(puk, '12ab'), 0x6a80);
    expect(a.state()).toEqual(before);
    await a.client.resetRetryCounter(puk, '5555');
    await refusedWith(a.client.verifyPin('2468'), 0x63c2); // the old PIN is gone
    await a.client.verifyPin('5555');
    expect(a.state().puk?.tries).toBe(10);
  });

  it('refuses malformed PINs and cards without a PIN', async () => {
    const a = await makeCard({ pin: '2468' });
    const before = a.state();
    await refusedWith(a.client.verifyPin('12'), 0x6a80);
    await refusedWith(a.client.verifyPin('abcd'), 0x6a80);
    await refusedWith(a.client.command(0x20, 0, new Uint8Array(4), 0x00, 0x81), 0x6a86);
    expect(a.state()).toEqual(before);
    const noPin = await makeCard({ pin: undefined });
    await refusedWith(noPin.client.verifyPin('1234'), 0x6a88);
  });
});

describe('mutual authentication (Fig. 5)', () => {
  it('gives both cards the same session ID and an access level', async () => {
    const { a, b } = await makePair();
    const s = await session(a, b);
    expect(toHex(s.a)).toBe(toHex(s.b));
    expect(s.result.a.level).toBe('basic');
  });

  it('grants issuer access only to an issuer card, in issuer mode', async () => {
    const issuer = testIssuer();
    const customer = await makeCard();
    const shop = await makeCard({ issuerCard: true });
    const s = await session(customer, shop, { a: SESSION_MODE.ISSUER });
    expect(s.result.a).toMatchObject({ level: 'issuer', peerIssuer: fromHex(issuer.issuerId) });
    // The purse issuer may read the balance without the owner's PIN.
    expect((await customer.client.getBalance()).balance).toBe(10_000);
    const plain = await makeCard();
    const other = await makeCard();
    await refusedWith(session(plain, other, { a: SESSION_MODE.ISSUER }), 0x6982);
  });

  it('refuses a forged certificate, a certificate of another holder, its own certificate and wrong order', async () => {
    const { a, b } = await makePair();
    const c = await makeCard();
    const rogue = generateP256KeyPair();
    const rogueCa = createCaCertificate({
      commonName: 'Rogue',
      privateKey: rogue.privateKey,
      serial: 1n,
      notBefore: new Date('2026-01-01'),
      notAfter: new Date('2036-01-01'),
    });
    const forged = issueCardCertificate({
      caPrivateKey: rogue.privateKey,
      caCertificateDer: rogueCa,
      holderId: b.holderId,
      cardPublicKey: generateP256KeyPair().publicKey,
      serial: 5n,
      notBefore: new Date('2026-01-01'),
      notAfter: new Date('2030-01-01'),
    });
    const begin = await b.client.authBegin(0, NOW);
    await a.client.authBegin(0, NOW);
    await refusedWith(a.client.authPeer({ mode: 0, ...begin, certificate: forged }), 0x6982);
    await a.client.authBegin(0, NOW);
    await refusedWith(
      a.client.authPeer({ mode: 0, ...begin, certificate: (await a.client.getCardInfo()).certificate }),
      0x6a80,
    );
    // Wrong holder: B's contribution presented with C's certificate; B's signature fails under C's key.
    const startA = await a.client.authBegin(0, NOW);
    const startB = await b.client.authBegin(0, NOW);
    await a.client.authPeer({ mode: 0, ...startB, certificate: (await c.client.getCardInfo()).certificate });
    const noticeB = await b.client.authPeer({
      mode: 0,
      ...startA,
      certificate: (await a.client.getCardInfo()).certificate,
    });
    await refusedWith(a.client.authConfirm(noticeB), 0x6982);
    await refusedWith(a.client.authConfirm(noticeB), 0x6985); // the failed attempt is gone
    await refusedWith(
      a.client.authPeer({ mode: 0, ...startB, certificate: (await b.client.getCardInfo()).certificate }),
      0x6985,
    );
    // No session, no content commands.
    await refusedWith(a.client.contentSend(0, 0, randomBytes(16), randomBytes(16)), 0x6982);
  });
});

describe('access levels enforced by the card', () => {
  it('shows and reads bodies per policy, and lets only the right party alter them', async () => {
    const issuer = testIssuer();
    const card = await makeCard();
    const items = {
      seat: ticket(issuer, { policy: 'issuer-alterable' }),
      key: ticket(issuer, {
        type: 'key',
        policy: 'secret',
        label: 'ticket key',
        body: toHex(randomBytes(16)),
      }),
      personal: ticket(issuer, {
        type: 'personal-data',
        policy: 'owner-only',
        label: 'name',
        body: toHex(new TextEncoder().encode('Alice')),
      }),
      coupon: ticket(issuer, { type: 'coupon', policy: 'public', label: '10% off', body: '01' }),
    };
    for (const item of Object.values(items)) await issue(card, item);
    const bodies = async () =>
      Object.fromEntries((await card.client.listContents()).map((i) => [i.label, i.body !== undefined]));
    // Public level: only the coupon's body.
    expect(await bodies()).toEqual({
      'Concert 2026-12-24': false,
      'ticket key': false,
      name: false,
      '10% off': true,
    });
    await refusedWith(card.client.readContent(fromHex(items.seat.id)), 0x6982);
    await refusedWith(card.client.readContent(fromHex(items.personal.id)), 0x6982);
    // Owner: seat and personal data too; never the key.
    await card.client.verifyPin('1234');
    expect(await bodies()).toEqual({
      'Concert 2026-12-24': true,
      'ticket key': false,
      name: true,
      '10% off': true,
    });
    await refusedWith(card.client.readContent(fromHex(items.key.id)), 0x6982);
    const before = card.state();
    await refusedWith(
      card.client.updateContent(fromHex(items.seat.id), new TextEncoder().encode('seat A1')),
      0x6982,
    );
    expect(card.state()).toEqual(before);
    await card.client.updateContent(fromHex(items.personal.id), new TextEncoder().encode('Alice B.'));
    // Issuer (issuer card in issuer mode): alters the seat, cannot read personal data.
    await card.reinsert();
    const shop = await makeCard({ issuerCard: true });
    await session(card, shop, { a: SESSION_MODE.ISSUER });
    await card.client.updateContent(fromHex(items.seat.id), new TextEncoder().encode('seat A1'));
    expect(new TextDecoder().decode(await card.client.readContent(fromHex(items.seat.id)))).toBe('seat A1');
    await refusedWith(card.client.readContent(fromHex(items.personal.id)), 0x6982);
    await refusedWith(card.client.readContent(fromHex(items.key.id)), 0x6982);
    await refusedWith(card.client.readContent(randomBytes(16)), 0x6a88);
  });
});

describe('issuing contents under a create right (second embodiment)', () => {
  it('accepts an item with a valid create right, once', async () => {
    const card = await makeCard();
    const item = ticket();
    const { template, right } = createRight(card, item);
    await card.client.createContent(NOW, template, right);
    expect((await card.client.listContents()).map((i) => i.id)).toEqual([item.id]);
    const after = card.state();
    await refusedWith(card.client.createContent(NOW, template, right), 0x6985); // replayed right
    expect(card.state()).toEqual(after);
  });

  it('refuses an item without, or with a forged, expired, misaddressed or mismatched create right', async () => {
    const card = await makeCard();
    const other = await makeCard();
    const before = card.state();
    const item = ticket();
    const good = createRight(card, item);
    // No right at all.
    await refusedWith(
      card.client.command(INS.CREATE_CONTENT, 0, Buffer.concat([Buffer.alloc(4), good.template])),
      0x6982,
    );
    // Signed by someone else.
    const forged = createRight(card, item, { signingKey: generateP256KeyPair().privateKey });
    await refusedWith(card.client.createContent(NOW, forged.template, forged.right), 0x6982);
    // Expired.
    const expired = createRight(card, item, { notAfter: NOW - 1 });
    await refusedWith(card.client.createContent(NOW, expired.template, expired.right), 0x6982);
    // Made for another card.
    const forOther = createRight(other, item);
    await refusedWith(card.client.createContent(NOW, forOther.template, forOther.right), 0x6982);
    // The item was changed after the right was signed (another seat).
    const changed = createRight(card, { ...item, body: '00' });
    await refusedWith(card.client.createContent(NOW, good.template, changed.right), 0x6982);
    // Malformed item.
    await refusedWith(card.client.createContent(NOW, Uint8Array.of(0xe1, 0x01, 0x00), good.right), 0x6a80);
    expect(card.state()).toEqual(before);
  });
});
