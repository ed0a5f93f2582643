// Real sessions with two simulated cards, driven by the terminal's own codec (SettlementClient) and
// relay functions: the APDUs the fuzzer takes as its starting points, and the states it attacks in
// (fresh card, selected, every step of a transfer, logged in, PIN blocked, mid exchange...).
import { establishSession } from '../../electron/services/contents/card-session-auth.js';
import { exchangeContents, transmitContent } from '../../electron/services/contents/content-flows.js';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { ecdsaSign, randomBytes } from '../../protocol/crypto-suite.js';
import { isTerminalError } from '../../protocol/errors.js';
import { KEY_ROUTE, type KeyRoute } from '../../protocol/settlement/commands.js';
import { type ContentItem, encodeItem, payloadDigest } from '../../protocol/settlement/contents-codec.js';
import { createRightMessage } from '../../protocol/settlement/create-right.js';
import { SESSION_MODE } from '../../protocol/settlement/session-keys.js';
import type { SettlementClient } from '../../protocol/settlement/settlement-client.js';
import { NOW, TEST_CURRENCY } from '../support/card-fixtures.js';
import { type FuzzCard, type FuzzFixture, PINS, type TemplateName } from './fuzz-cards.js';

export interface ScenarioContext {
  fx: FuzzFixture;
  cards: { a: FuzzCard; b: FuzzCard };
  a: SettlementClient;
  b: SettlementClient;
}

export interface Scenario {
  /** The card images used as card A and card B. */
  a: TemplateName;
  b: TemplateName;
  run(ctx: ScenarioContext): Promise<void>;
}

/**
 * A step an honest session expects the card to refuse (wrong PIN, balance without login...). Under
 * hostile commands it may succeed instead (a replayed VERIFY logged the owner in): either is fine.
 */
async function refused(work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch (e) {
    if (!isTerminalError(e, 'E_CARD_STATUS')) throw e;
  }
}

const noJournal = () => undefined;

async function selectBoth(c: ScenarioContext) {
  await c.a.select();
  await c.b.select();
  return { infoA: await c.a.getCardInfo(), infoB: await c.b.getCardInfo() };
}

function keyUpdate(b: TemplateName, route: KeyRoute): Scenario {
  return {
    a: 'newer',
    b,
    async run(c) {
      const { infoA, infoB } = await selectBoth(c);
      const isPublic = route === KEY_ROUTE.PUBLIC_KEY;
      const random = await c.b.beginKeyUpdate(route, NOW, isPublic ? infoA.certificate : undefined);
      const exported = await c.a.exportTransferKey(
        route,
        NOW,
        random,
        isPublic ? infoB.certificate : infoB.holderId,
      );
      await c.b.applyKeyUpdate(route, exported);
      await c.b.getCardInfo();
    },
  };
}

async function session(c: ScenarioContext, modes: { a: number; b: number }) {
  const { infoA, infoB } = await selectBoth(c);
  const s = await establishSession(
    { client: c.a, certificate: infoA.certificate, mode: modes.a },
    { client: c.b, certificate: infoB.certificate, mode: modes.b },
    NOW,
  );
  return { a: s.a.sessionId, b: s.b.sessionId };
}

export const SCENARIOS = {
  'value-transfer': {
    a: 'payer',
    b: 'shop',
    async run(c) {
      await selectBoth(c);
      const terms = (counterpart: FuzzCard, amount: number) => ({
        counterpartId: counterpart.holderId,
        currency: TEST_CURRENCY,
        amount,
        date: NOW,
      });
      const debit = await c.a.initiateDebit(terms(c.cards.b, 250));
      const tx = debit.txRandom;
      const { rxRandom, challenge } = await c.b.initiateCredit(terms(c.cards.a, 250), debit);
      const reception = await c.a.debit(tx, rxRandom, challenge);
      const ack = await c.b.credit(tx, reception);
      await c.a.acknowledgeDebit(tx, ack);
      await c.a.transactionStatus(tx);
      // A second transfer, abandoned and rolled back as the terminal's recovery does it.
      const debit2 = await c.a.initiateDebit(terms(c.cards.b, 70));
      await c.b.initiateCredit(terms(c.cards.a, 70), debit2);
      const abortProof = await c.a.abortDebit(debit2.txRandom);
      await c.b.cancelCredit(debit2.txRandom, abortProof);
      // A third, which the payee gives up: the release proof takes the open debit back.
      const debit3 = await c.a.initiateDebit(terms(c.cards.b, 30));
      const third = await c.b.initiateCredit(terms(c.cards.a, 30), debit3);
      const releaseProof = await c.b.releaseCredit(debit3.txRandom);
      await c.a.refundDebit(debit3.txRandom, third.rxRandom, releaseProof);
      await c.b.unsettledTransactions();
    },
  },
  'key-update-common': keyUpdate('shop', KEY_ROUTE.COMMON_KEY),
  'key-update-public': keyUpdate('noUpdateKey', KEY_ROUTE.PUBLIC_KEY),
  'key-update-prestored': keyUpdate('prestored', KEY_ROUTE.PRESTORED_SWITCH),
  login: {
    a: 'payer',
    b: 'shop',
    async run(c) {
      await c.a.select();
      await c.a.pinStatus();
      await refused(c.a.getBalance());
      await refused(c.a.verifyPin('9999'));
      await c.a.verifyPin(PINS.payer);
      await c.a.getBalance();
      await c.a.pinStatus();
      await c.a.sessionEnd();
      await refused(c.a.getBalance());
    },
  },
  'pin-blocked': {
    a: 'payer',
    b: 'shop',
    async run(c) {
      await c.a.select();
      for (let i = 0; i < 3; i++) await refused(c.a.verifyPin('0000'));
      await refused(c.a.verifyPin(PINS.payer));
      await c.a.pinStatus();
      await refused(c.a.resetRetryCounter('00000000', '4321'));
      await c.a.resetRetryCounter(c.fx.puks.payer, '4321');
      await c.a.verifyPin('4321');
      await c.a.getBalance();
    },
  },
  'mutual-auth': {
    a: 'payer',
    b: 'shop',
    async run(c) {
      await session(c, { a: SESSION_MODE.ISSUER, b: SESSION_MODE.BASIC });
      await c.a.listContents();
      await c.b.listContents();
      await refused(c.b.readContent(fromHex(c.fx.ticketId))); // the seat needs owner or issuer access
      await c.b.verifyPin(PINS.shop);
      await c.b.readContent(fromHex(c.fx.ticketId));
      await c.a.getBalance(); // the shop is the purse issuer: issuer access shows the balance
      await c.a.sessionEnd();
    },
  },
  'content-transfer': {
    a: 'payer',
    b: 'shop',
    async run(c) {
      const ids = await session(c, { a: SESSION_MODE.BASIC, b: SESSION_MODE.BASIC });
      const { txId } = await transmitContent(
        c.b,
        c.a,
        { sender: ids.b, receiver: ids.a },
        { item: fromHex(c.fx.ticketId) },
        noJournal,
      );
      await c.a.contentStatus(txId);
      await c.a.listContents();
    },
  },
  'content-exchange': {
    a: 'payer',
    b: 'shop',
    async run(c) {
      const ids = await session(c, { a: SESSION_MODE.BASIC, b: SESSION_MODE.BASIC });
      await c.a.verifyPin(PINS.payer); // paying needs owner mode (SELECT would end it, so after)
      await exchangeContents(
        c.a,
        c.b,
        { initiator: ids.a, responder: ids.b },
        { amount: 1500 },
        { item: fromHex(c.fx.ticketId) },
        noJournal,
      );
      await c.a.unsettledContentTransfers();
      await c.b.unsettledContentTransfers();
    },
  },
  'create-content': {
    a: 'payer',
    b: 'shop',
    async run(c) {
      await c.a.select();
      const item: ContentItem = {
        id: toHex(randomBytes(16)),
        type: 'coupon',
        issuerId: c.fx.issuer.issuerId,
        policy: 'public',
        label: 'Coupon',
        body: toHex(new TextEncoder().encode('10% off')),
      };
      const template = encodeItem(item);
      const grantId = randomBytes(16);
      const notAfter = NOW + 600;
      const signature = ecdsaSign(
        fromHex(c.fx.issuer.authorityPrivateKey),
        createRightMessage({
          grantId,
          cardHolderId: c.cards.a.holderId,
          itemDigest: payloadDigest(template),
          notAfter,
        }),
      );
      await c.a.createContent(NOW, template, { grantId, notAfter, signature });
      await c.a.readContent(fromHex(item.id));
      await c.a.listContents();
    },
  },
} satisfies Record<string, Scenario>;

export type ScenarioName = keyof typeof SCENARIOS;
export const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[];
