// Transfer-key update, seed 002 embodiments 1–5, on the card: each route, then each refusal with
// the receiving card's persistent state unchanged.
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { generateP256KeyPair } from '../../protocol/crypto-suite.js';
import { createCaCertificate, issueCardCertificate } from '../../protocol/pki/index.js';
import { KEY_ROUTE, type KeyRoute } from '../../protocol/settlement/commands.js';
import { encodeTlvList, parseTlvList } from '../../protocol/tlv.js';
import { makeCard, makePair, NOW, type TestCard, testIssuer, transfer } from '../support/card-fixtures.js';
import { refusedWith } from '../support/refusals.js';

/** Runs BEGIN on `receiver`, EXPORT on `sender`, APPLY on `receiver`; `tamper` may alter the export. */
async function update(
  receiver: TestCard,
  sender: TestCard,
  route: KeyRoute,
  tamper?: (x: Uint8Array) => Uint8Array,
) {
  const receiverInfo = await receiver.client.getCardInfo();
  const senderInfo = await sender.client.getCardInfo();
  const isPublic = route === KEY_ROUTE.PUBLIC_KEY;
  const random = await receiver.client.beginKeyUpdate(
    route,
    NOW,
    isPublic ? senderInfo.certificate : undefined,
  );
  const exported = await sender.client.exportTransferKey(
    route,
    NOW,
    random,
    isPublic ? receiverInfo.certificate : receiver.holderId,
  );
  await receiver.client.applyKeyUpdate(route, tamper ? tamper(exported) : exported);
  return exported;
}

const flipLastBit = (x: Uint8Array) => {
  const y = x.slice();
  y[y.length - 1]! ^= 1;
  return y;
};

describe('common-key route (embodiments 1, 3, 5)', () => {
  it('updates the older card to the newer transfer key, after which a transfer works', async () => {
    const { a, b } = await makePair({ transferKeyId: 1 }, { transferKeyId: 2 });
    await refusedWith(transfer(a, b, 10), 0x6982); // different keys: the debit proof does not verify
    // Nothing was stored on the payee; the payer's open debit is abandoned, as the terminal does.
    expect(b.state().creditLog).toEqual([]);
    await a.client.abortDebit((await a.client.unsettledTransactions())[0]!.txRandom);
    await update(a, b, KEY_ROUTE.COMMON_KEY);
    expect(a.state().transferKeyId).toBe(2);
    expect(a.state().transferKeys['2']).toBe(b.state().transferKeys['2']);
    expect(Object.keys(a.state().transferKeys)).toEqual(['2']); // the old key is retired
    await transfer(a, b, 10);
    expect(b.state().balance).toBe(10_010);
  });

  it('refuses an older key, a key over the limit, and the same key (no rollback)', async () => {
    for (const [receiverTk, senderTk, limit] of [
      [3, 2, 5],
      [1, 4, 3],
      [2, 2, 5],
    ] as const) {
      const { a, b } = await makePair(
        { transferKeyId: receiverTk, transferKeyIdLimit: limit },
        { transferKeyId: senderTk },
      );
      const before = a.state();
      await refusedWith(update(a, b, KEY_ROUTE.COMMON_KEY), 0x6984);
      expect(a.state()).toEqual(before);
    }
  });

  it('refuses a tampered wrap, a wrap under another update key, for another card or another random', async () => {
    const { a, b } = await makePair({ transferKeyId: 1 }, { transferKeyId: 2 });
    const before = a.state();
    await refusedWith(update(a, b, KEY_ROUTE.COMMON_KEY, flipLastBit), 0x6982);
    const c = await makeCard({ transferKeyId: 1, updateKeyId: 2 });
    await refusedWith(update(c, b, KEY_ROUTE.COMMON_KEY), 0x6982); // different update key
    // A wrap addressed to C presented to A.
    const random = await a.client.beginKeyUpdate(KEY_ROUTE.COMMON_KEY, NOW);
    const forC = await b.client.exportTransferKey(KEY_ROUTE.COMMON_KEY, NOW, random, c.holderId);
    await refusedWith(a.client.applyKeyUpdate(KEY_ROUTE.COMMON_KEY, forC), 0x6982);
    // A wrap made for an earlier random.
    const oldRandom = await a.client.beginKeyUpdate(KEY_ROUTE.COMMON_KEY, NOW);
    const stale = await b.client.exportTransferKey(KEY_ROUTE.COMMON_KEY, NOW, oldRandom, a.holderId);
    await a.client.beginKeyUpdate(KEY_ROUTE.COMMON_KEY, NOW);
    await refusedWith(a.client.applyKeyUpdate(KEY_ROUTE.COMMON_KEY, stale), 0x6982);
    expect(a.state()).toEqual(before);
  });

  it('refuses APPLY without BEGIN, with another route, and a replay of a used wrap', async () => {
    const { a, b } = await makePair({ transferKeyId: 1 }, { transferKeyId: 2 });
    const before = a.state();
    await refusedWith(a.client.applyKeyUpdate(KEY_ROUTE.COMMON_KEY, new Uint8Array(60)), 0x6985);
    await a.client.beginKeyUpdate(KEY_ROUTE.COMMON_KEY, NOW);
    await refusedWith(a.client.applyKeyUpdate(KEY_ROUTE.PRESTORED_SWITCH, new Uint8Array(60)), 0x6985);
    expect(a.state()).toEqual(before);
    const wrap = await update(a, b, KEY_ROUTE.COMMON_KEY);
    const after = a.state();
    await refusedWith(a.client.applyKeyUpdate(KEY_ROUTE.COMMON_KEY, wrap), 0x6985);
    expect(a.state()).toEqual(after);
  });

  it('forgets the update random on power loss', async () => {
    const { a, b } = await makePair({ transferKeyId: 1 }, { transferKeyId: 2 });
    const random = await a.client.beginKeyUpdate(KEY_ROUTE.COMMON_KEY, NOW);
    const wrap = await b.client.exportTransferKey(KEY_ROUTE.COMMON_KEY, NOW, random, a.holderId);
    await a.reinsert();
    await refusedWith(a.client.applyKeyUpdate(KEY_ROUTE.COMMON_KEY, wrap), 0x6985);
    expect(a.state().transferKeyId).toBe(1);
  });

  it('refuses the common-key route on a card without update key, and on an expired card', async () => {
    const noUpdateKey = await makeCard({ updateKeyId: 0 });
    await refusedWith(noUpdateKey.client.beginKeyUpdate(KEY_ROUTE.COMMON_KEY, NOW), 0x6985);
    const expired = await makeCard({ validity: '20261120' });
    await refusedWith(expired.client.beginKeyUpdate(KEY_ROUTE.COMMON_KEY, NOW), 0x6985);
    await refusedWith(
      expired.client.exportTransferKey(KEY_ROUTE.COMMON_KEY, NOW, new Uint8Array(16), noUpdateKey.holderId),
      0x6985,
    );
  });
});

describe('pre-stored keys switched by ID (embodiment 4)', () => {
  it('switches to a pre-stored key without any key leaving a card', async () => {
    const { a, b } = await makePair(
      { transferKeyId: 1, prestoredTransferKeyIds: [2, 3] },
      { transferKeyId: 3 },
    );
    expect((await a.client.getCardInfo()).prestoredTransferKeyIds).toEqual([2, 3]);
    const exported = await update(a, b, KEY_ROUTE.PRESTORED_SWITCH);
    expect(toHex(exported)).not.toContain(b.state().transferKeys['3']!);
    expect(a.state().transferKeyId).toBe(3);
    expect(Object.keys(a.state().transferKeys)).toEqual(['3']);
    await transfer(a, b, 5);
  });

  it('refuses an ID the card does not hold, and an older ID', async () => {
    const { a, b } = await makePair({ transferKeyId: 1, prestoredTransferKeyIds: [2] }, { transferKeyId: 3 });
    const before = a.state();
    await refusedWith(update(a, b, KEY_ROUTE.PRESTORED_SWITCH), 0x6984);
    expect(a.state()).toEqual(before);
    const { a: c, b: d } = await makePair({ transferKeyId: 3 }, { transferKeyId: 2 });
    const beforeC = c.state();
    await refusedWith(update(c, d, KEY_ROUTE.PRESTORED_SWITCH), 0x6984);
    expect(c.state()).toEqual(beforeC);
  });
});

describe('public-key route (embodiments 2, 3, 5)', () => {
  it('updates transfer key and update key together when the update keys differ', async () => {
    const { a, b } = await makePair(
      { transferKeyId: 1, updateKeyId: 1 },
      { transferKeyId: 3, updateKeyId: 2 },
    );
    await update(a, b, KEY_ROUTE.PUBLIC_KEY);
    const s = a.state();
    expect([s.transferKeyId, s.updateKeyId]).toEqual([3, 2]);
    expect(s.transferKeys['3']).toBe(b.state().transferKeys['3']);
    expect(s.updateKey).toBe(b.state().updateKey);
    await transfer(a, b, 7);
  });

  it('takes the newer transfer key but keeps its own newer update key', async () => {
    const { a, b } = await makePair(
      { transferKeyId: 1, updateKeyId: 2 },
      { transferKeyId: 3, updateKeyId: 1 },
    );
    const ownUpdateKey = a.state().updateKey;
    await update(a, b, KEY_ROUTE.PUBLIC_KEY);
    expect([a.state().transferKeyId, a.state().updateKeyId, a.state().updateKey]).toEqual([
      3,
      2,
      ownUpdateKey,
    ]);
  });

  it('gives a card without update key (embodiment 2) the transfer key and the update key', async () => {
    const { a, b } = await makePair(
      { transferKeyId: 1, updateKeyId: 0 },
      { transferKeyId: 2, updateKeyId: 1 },
    );
    await update(a, b, KEY_ROUTE.PUBLIC_KEY);
    expect([a.state().transferKeyId, a.state().updateKeyId]).toEqual([2, 1]);
  });

  it('refuses when neither key is newer', async () => {
    const { a, b } = await makePair(
      { transferKeyId: 3, updateKeyId: 2 },
      { transferKeyId: 2, updateKeyId: 1 },
    );
    const before = a.state();
    await refusedWith(update(a, b, KEY_ROUTE.PUBLIC_KEY), 0x6984);
    expect(a.state()).toEqual(before);
  });

  it('refuses a certificate from another CA, an expired one, a malformed one and its own', async () => {
    const { a, b } = await makePair({ transferKeyId: 1 }, { transferKeyId: 2 });
    const before = a.state();
    const rogueCa = generateP256KeyPair();
    const rogueCaCert = createCaCertificate({
      commonName: 'Rogue CA',
      privateKey: rogueCa.privateKey,
      serial: 1n,
      notBefore: new Date('2026-01-01'),
      notAfter: new Date('2036-01-01'),
    });
    const forged = issueCardCertificate({
      caPrivateKey: rogueCa.privateKey,
      caCertificateDer: rogueCaCert,
      holderId: b.holderId,
      cardPublicKey: generateP256KeyPair().publicKey,
      serial: 99n,
      notBefore: new Date('2026-01-01'),
      notAfter: new Date('2030-01-01'),
    });
    await refusedWith(a.client.beginKeyUpdate(KEY_ROUTE.PUBLIC_KEY, NOW, forged), 0x6982);
    const expired = await makeCard({ validity: '20261120' });
    const expiredCert = fromHex(expired.state().certificate);
    await refusedWith(a.client.beginKeyUpdate(KEY_ROUTE.PUBLIC_KEY, NOW, expiredCert), 0x6982);
    await refusedWith(a.client.beginKeyUpdate(KEY_ROUTE.PUBLIC_KEY, NOW, fromHex('3003020101')), 0x6a80);
    await refusedWith(
      a.client.beginKeyUpdate(KEY_ROUTE.PUBLIC_KEY, NOW, fromHex(a.state().certificate)),
      0x6a80,
    );
    await refusedWith(a.client.beginKeyUpdate(KEY_ROUTE.PUBLIC_KEY, NOW), 0x6700);
    // The sender refuses to seal keys to a forged receiver certificate.
    await refusedWith(
      b.client.exportTransferKey(KEY_ROUTE.PUBLIC_KEY, NOW, new Uint8Array(16), forged),
      0x6982,
    );
    expect(a.state()).toEqual(before);
  });

  it('refuses a tampered seal, a signature by another card and a malformed TLV', async () => {
    const { a, b } = await makePair({ transferKeyId: 1 }, { transferKeyId: 2 });
    const c = await makeCard({ transferKeyId: 2 });
    const before = a.state();
    const tamperSeal = (x: Uint8Array) => {
      const items = parseTlvList(x);
      items[0]!.value[10]! ^= 1;
      return encodeTlvList(items);
    };
    await refusedWith(update(a, b, KEY_ROUTE.PUBLIC_KEY, tamperSeal), 0x6982);
    // BEGIN names B as the sender, but C answers the export: C's signature does not verify under B's key.
    const random = await a.client.beginKeyUpdate(
      KEY_ROUTE.PUBLIC_KEY,
      NOW,
      (await b.client.getCardInfo()).certificate,
    );
    const fromC = await c.client.exportTransferKey(
      KEY_ROUTE.PUBLIC_KEY,
      NOW,
      random,
      (await a.client.getCardInfo()).certificate,
    );
    await refusedWith(a.client.applyKeyUpdate(KEY_ROUTE.PUBLIC_KEY, fromC), 0x6982);
    await a.client.beginKeyUpdate(KEY_ROUTE.PUBLIC_KEY, NOW, (await b.client.getCardInfo()).certificate);
    await refusedWith(a.client.applyKeyUpdate(KEY_ROUTE.PUBLIC_KEY, fromHex('D0FF')), 0x6a80);
    expect(a.state()).toEqual(before);
  });
});

describe('secrets', () => {
  it('never appear in any response of any command', async () => {
    const { a, b } = await makePair(
      { transferKeyId: 1, prestoredTransferKeyIds: [2] },
      { transferKeyId: 3, updateKeyId: 2 },
    );
    const seen: string[] = [];
    for (const card of [a, b]) {
      const channel = card.client.channel;
      const original = channel.transmit.bind(channel);
      channel.transmit = async (apdu, opts) => {
        const r = await original(apdu, opts);
        seen.push(toHex(r));
        return r;
      };
    }
    const secrets = [a, b].flatMap((c) => {
      const s = c.state();
      return [...Object.values(s.transferKeys), s.updateKey ?? '', s.cardPrivateKey].filter(Boolean);
    });
    await a.client.getCardInfo();
    await a.client.verifyPin('1234');
    await a.client.getBalance();
    await update(a, b, KEY_ROUTE.PUBLIC_KEY);
    await update(b, a, KEY_ROUTE.COMMON_KEY).catch(() => undefined);
    await transfer(a, b, 3);
    for (let ins = 0; ins < 256; ins++)
      await a.client.command(ins, 0, new Uint8Array(0)).catch(() => undefined);
    const transcript = seen.join('');
    for (const secret of secrets) expect(transcript).not.toContain(secret);
    expect(testIssuer()).toBeDefined();
  });
});
