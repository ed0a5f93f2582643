// Fixtures for seed 000: items, create rights signed by the test issuer's authority, and sessions.
import type { IssuerState } from '../../card-sim/issuer/issuer-state.js';
import { establishSession } from '../../electron/services/contents/card-session-auth.js';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { ecdsaSign, randomBytes } from '../../protocol/crypto-suite.js';
import { type ContentItem, encodeItem, payloadDigest } from '../../protocol/settlement/contents-codec.js';
import { createRightMessage } from '../../protocol/settlement/create-right.js';
import { SESSION_MODE } from '../../protocol/settlement/session-keys.js';
import type { SettlementClient } from '../../protocol/settlement/settlement-client.js';
import { makeCard, NOW, TEST_PIN, type TestCard, testIssuer } from './card-fixtures.js';

export function ticket(issuer: IssuerState = testIssuer(), o: Partial<ContentItem> = {}): ContentItem {
  return {
    id: toHex(randomBytes(16)),
    type: 'ticket',
    issuerId: issuer.issuerId,
    policy: 'issuer-alterable',
    label: 'Concert 2026-12-24',
    body: toHex(new TextEncoder().encode('seat B12')),
    ...o,
  };
}

export function createRight(
  card: TestCard,
  item: ContentItem,
  o: { issuer?: IssuerState; notAfter?: number; signingKey?: Uint8Array } = {},
) {
  const issuer = o.issuer ?? testIssuer();
  const grantId = randomBytes(16);
  const notAfter = o.notAfter ?? NOW + 600;
  const template = encodeItem(item);
  const signature = ecdsaSign(
    o.signingKey ?? fromHex(issuer.authorityPrivateKey),
    createRightMessage({
      grantId,
      cardHolderId: card.holderId,
      itemDigest: payloadDigest(template),
      notAfter,
    }),
  );
  return { template, right: { grantId, notAfter, signature } };
}

/** CREATE CONTENT of `item` on a card, under a create right the issuer's authority signs for that card. */
export async function createUnderRight(
  issuer: IssuerState,
  client: SettlementClient,
  cardHolderId: Uint8Array,
  now: number,
  item: ContentItem,
): Promise<void> {
  const grantId = randomBytes(16);
  const notAfter = now + 600;
  const template = encodeItem(item);
  const signature = ecdsaSign(
    fromHex(issuer.authorityPrivateKey),
    createRightMessage({ grantId, cardHolderId, itemDigest: payloadDigest(template), notAfter }),
  );
  await client.createContent(now, template, { grantId, notAfter, signature });
}

export async function issue(card: TestCard, item: ContentItem): Promise<void> {
  const { template, right } = createRight(card, item);
  await card.client.createContent(NOW, template, right);
}

export async function session(a: TestCard, b: TestCard, modes: { a?: number; b?: number } = {}) {
  const certA = (await a.client.getCardInfo()).certificate;
  const certB = (await b.client.getCardInfo()).certificate;
  const result = await establishSession(
    { client: a.client, certificate: certA, mode: modes.a ?? SESSION_MODE.BASIC },
    { client: b.client, certificate: certB, mode: modes.b ?? SESSION_MODE.BASIC },
    NOW,
  );
  return { a: result.a.sessionId, b: result.b.sessionId, result };
}

/** A customer (PIN verified, 50.00) and a shop issuer card holding one ticket, with an established session. */
export async function shopAndCustomer() {
  const customer = await makeCard({ balance: 5000 });
  const shop = await makeCard({ balance: 0, issuerCard: true });
  const item = ticket();
  await issue(shop, item);
  await customer.client.verifyPin(TEST_PIN);
  const ids = await session(customer, shop, { a: SESSION_MODE.ISSUER });
  return { customer, shop, item, ids };
}
