// Seed 000 end to end over a real pcscd with two vpcd readers: the terminal services (backend
// 'pcsc') authenticate the two cards to each other (a good pair; a revoked, a forged certificate and
// a wrong holder ID refused), verify the owner's PIN (right, wrong, blocked, unblocked with the
// issuer's PUK), open issuer mode, show contents as the card's access level allows (a read refused
// by the card), send a ticket and sell one for e-money, and interrupt the sale at every content
// command (the card pulled before or after it acted): once the card is back, recovery leaves both
// cards entirely before or entirely after, nothing duplicated or lost, the log intact.
// No timing assertions; every wait is bounded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SettlementState } from '../../card-sim/applets/settlement/state.js';
import {
  createIssuer,
  personalizeCard,
  publishCrl,
  revokeCertificate,
} from '../../card-sim/issuer/issuer.js';
import type { ContentEngine } from '../../electron/services/contents/content-engine.js';
import type { SlotName } from '../../electron/services/slots/reader-slots.js';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { ecdsaSign, randomBytes } from '../../protocol/crypto-suite.js';
import { isTerminalError, type TerminalError } from '../../protocol/errors.js';
import { INS } from '../../protocol/settlement/commands.js';
import { type ContentItem, encodeItem, payloadDigest } from '../../protocol/settlement/contents-codec.js';
import { createRightMessage } from '../../protocol/settlement/create-right.js';
import { SW } from '../../protocol/status-words.js';
import {
  type CardFault,
  defaultCard,
  E2E_CURRENCY,
  type PcscTerminal,
  startPcscTerminal,
} from '../support/pcsc-terminal-fixture.js';

const PINS = { payer: '1234', payee: '0000' } as const;
const PRICE = 1_500;
let t: PcscTerminal;

beforeAll(async () => {
  // The customer's card in the payer reader, the shop's issuer card in the payee reader.
  t = await startPcscTerminal({
    waitingTimeMs: 2_000,
    payer: { pin: PINS.payer, balance: 50_000 },
    payee: { pin: PINS.payee, balance: 0, issuerCard: true },
  });
  await t.startServices();
});

afterAll(async () => {
  await t?.stop();
});

const services = () => {
  const s = t.services;
  if (!s) throw new Error('terminal services are not running');
  return s;
};
const contents = (): ContentEngine => services().contents;

function item(o: Partial<ContentItem> = {}): ContentItem {
  return {
    id: toHex(randomBytes(16)),
    type: 'ticket',
    issuerId: t.issuer().issuerId,
    policy: 'issuer-alterable',
    label: 'Concert 2026-12-24',
    body: toHex(new TextEncoder().encode('seat B12')),
    ...o,
  };
}

/** CREATE CONTENT over the PC/SC channel, under a create right signed by the issuer's authority. */
async function issue(slot: SlotName, it: ContentItem = item()): Promise<ContentItem> {
  const authority = fromHex(t.issuer().authorityPrivateKey);
  await services().engine.withCards(async (cards) => {
    const s = await cards.session(slot);
    const grantId = randomBytes(16);
    const notAfter = cards.now() + 600;
    const template = encodeItem(it);
    const signature = ecdsaSign(
      authority,
      createRightMessage({
        grantId,
        cardHolderId: s.info.holderId,
        itemDigest: payloadDigest(template),
        notAfter,
      }),
    );
    await s.client.createContent(cards.now(), template, { grantId, notAfter, signature });
  });
  return it;
}

/** Purses and which card holds which item: identical "entirely before" or "entirely after". */
function snapshot(): string {
  const c = t.state('payer');
  const s = t.state('payee');
  return JSON.stringify({
    balances: [c.balance, s.balance],
    items: [c.contents.map((i) => i.id).sort(), s.contents.map((i) => i.id).sort()],
  });
}

function expectSettled() {
  for (const slot of ['payer', 'payee'] as const) {
    const s = t.state(slot);
    expect(s.contents.filter((i) => i.lockedBy)).toEqual([]);
    expect(s.contentLog.filter((r) => ['open', 'deleted', 'pending'].includes(r.status))).toEqual([]);
  }
  expect(contents().openFlows()).toEqual([]);
  expect(services().journal.verify()).toMatchObject({ ok: true });
}

async function rejection(p: Promise<unknown>): Promise<TerminalError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!isTerminalError(e)) throw new Error(`expected a TerminalError, got ${String(e)}`);
  return e;
}

/**
 * Runs `work` with another card image in the payee reader, then puts the shop's card back. The
 * card's memory is rewritten in place, which no reader notices: the terminal re-reads the card.
 */
async function withPayeeImage(image: SettlementState, work: () => Promise<void>): Promise<void> {
  const original = { payer: t.state('payer'), payee: t.state('payee') };
  // Another image in the same card is another card: the terminal must not carry what it read of the
  // first one over (docs/protocol.md §4.8), so its sessions are reset, as a pulled card resets them.
  const swap = async (images: Record<SlotName, SettlementState>) => {
    t.restoreCards(images);
    await services().engine.withCards((cards) => cards.dropAll());
    await services().engine.readCard('payee');
  };
  await swap({ payer: original.payer, payee: image });
  try {
    await work();
  } finally {
    await swap(original);
  }
}

describe('mutual authentication over pcscd', () => {
  it('a good pair: both cards check each other and agree one session ID', async () => {
    const r = await contents().authenticate();
    expect(r.payer.sessionId).toMatch(/^[0-9A-F]{32}$/);
    expect(r.payee.sessionId).toBe(r.payer.sessionId);
    expect(r.payer).toMatchObject({ level: 'basic', peerHolderId: t.state('payee').holderId });
    expect(r.payee).toMatchObject({ level: 'basic', peerHolderId: t.state('payer').holderId });
  });

  it('refuses a revoked certificate (CRL imported) before any authentication command', async () => {
    const issuer = t.issuer();
    const image = personalizeCard(issuer, { ...defaultCard(), label: 'revoked', pin: '1111' });
    const serial = issuer.issued.at(-1)!.serial;
    revokeCertificate(issuer, BigInt(serial));
    const crl = publishCrl(issuer, { now: new Date(Date.now() - 60_000), validityDays: 30 });
    t.saveIssuer(issuer);
    services().crl.importDer(crl, 'file');
    await withPayeeImage(image, async () => {
      const e = await rejection(contents().authenticate());
      expect(e).toMatchObject({ code: 'E_PKI_REVOKED', details: { slot: 'payee', serial } });
    });
    expect(contents().currentSession()).toBeUndefined();
  });

  it('refuses a card certified by another CA: the terminal, and the card itself', async () => {
    const rogue = createIssuer({ name: 'Rogue', currency: E2E_CURRENCY });
    const image = personalizeCard(rogue, { ...defaultCard(), issuerCard: true });
    await withPayeeImage(image, async () => {
      expect(await rejection(contents().authenticate())).toMatchObject({
        code: 'E_PKI_SIGNATURE',
        details: { slot: 'payee' },
      });
      // Relayed anyway, straight through the SettlementClient over PC/SC: the payer card refuses it.
      await services().engine.withCards(async (cards) => {
        const payer = await cards.session('payer');
        const payee = await cards.refresh('payee');
        await payer.client.authBegin(0, cards.now());
        const start = await payee.client.authBegin(0, cards.now());
        const e = await rejection(
          payer.client.authPeer({ mode: 0, ...start, certificate: payee.info.certificate }),
        );
        expect(e.details).toMatchObject({ sw: SW.SECURITY_STATUS_NOT_SATISFIED, ins: INS.AUTH_PEER });
      });
    });
  });

  it('a wrong holder ID (another card’s certificate with this card’s contribution): AUTH CONFIRM answers 6982', async () => {
    const issuer = t.issuer();
    const other = personalizeCard(issuer, { ...defaultCard(), label: 'other' });
    t.saveIssuer(issuer);
    await services().engine.withCards(async (cards) => {
      const payer = await cards.refresh('payer');
      const payee = await cards.refresh('payee');
      const startA = await payer.client.authBegin(0, cards.now());
      const startB = await payee.client.authBegin(0, cards.now());
      // The certificate is genuine and valid, but not the card that answers: its key never signed this.
      await payer.client.authPeer({ mode: 0, ...startB, certificate: fromHex(other.certificate) });
      const noticeB = await payee.client.authPeer({
        mode: 0,
        ...startA,
        certificate: payer.info.certificate,
      });
      const e = await rejection(payer.client.authConfirm(noticeB));
      expect(e).toMatchObject({ code: 'E_CARD_STATUS', details: { sw: SW.SECURITY_STATUS_NOT_SATISFIED } });
      // No session: content commands are refused.
      const send = await rejection(payer.client.contentSend(1, 0, randomBytes(16), 1));
      expect(send.details).toMatchObject({ sw: SW.SECURITY_STATUS_NOT_SATISFIED });
    });
  });
});

describe('owner mode and issuer mode over pcscd', () => {
  it('owner PIN: right, wrong (tries counted), blocked, unblocked with the issuer’s PUK', async () => {
    const engine = services().engine;
    const holderId = t.state('payer').holderId;
    const puk = t.issuer().issued.find((c) => c.holderId === holderId)!.puk!;
    expect((await engine.login('payer', PINS.payer)).ownerLoggedIn).toBe(true);
    expect((await contents().listContents('payer')).access.owner).toBe(true);
    await contents().logout('payer');
    expect((await contents().listContents('payer')).access.owner).toBe(false);
    expect(await rejection(engine.login('payer', '9999'))).toMatchObject({
      code: 'E_PIN_WRONG',
      details: { triesLeft: 2 },
    });
    await engine.login('payer', PINS.payer); // a right PIN resets the counter
    expect(t.state('payer').owner?.tries).toBe(3);
    await contents().logout('payer');
    for (const [pin, code] of [
      ['0001', 'E_PIN_WRONG'],
      ['0002', 'E_PIN_WRONG'],
      ['0003', 'E_PIN_BLOCKED'],
      [PINS.payer, 'E_PIN_BLOCKED'],
    ] as const) {
      expect(await rejection(engine.login('payer', pin))).toMatchObject({ code });
    }
    expect(
      await rejection(engine.unblockPin('payer', puk === '00000000' ? '11111111' : '00000000', '5678')),
    ).toMatchObject({
      code: 'E_PIN_WRONG',
    });
    await engine.unblockPin('payer', puk, '5678');
    expect(await rejection(engine.login('payer', PINS.payer))).toMatchObject({ code: 'E_PIN_WRONG' });
    await engine.login('payer', '5678');
    // Back to the customer's PIN for the tests that follow.
    await engine.unblockPin('payer', puk, PINS.payer);
    await engine.login('payer', PINS.payer);
    await contents().logout('payer');
  });

  it('issuer mode and the access levels: the card refuses reads above its level', async () => {
    const seat = await issue('payer', item({ label: 'seat' }));
    const personal = await issue(
      'payer',
      item({
        type: 'personal-data',
        policy: 'owner-only',
        label: 'name',
        body: toHex(new TextEncoder().encode('Alice')),
      }),
    );
    const body = async (label: string) =>
      (await contents().listContents('payer')).items.find((i) => i.label === label)?.body;

    // Basic session: the seat is not shown, and the card refuses to read it.
    await contents().authenticate();
    expect(await body('seat')).toBeUndefined();
    expect(await rejection(contents().readContent('payer', seat.id))).toMatchObject({
      code: 'E_ACCESS_DENIED',
      details: { sw: SW.SECURITY_STATUS_NOT_SATISFIED, slot: 'payer' },
    });

    // Issuer mode: the shop's issuer card may read (and alter) its ticket, never the personal data.
    const r = await contents().authenticate({ payerMode: 'issuer' });
    expect(r.payer).toMatchObject({ mode: 'issuer', level: 'issuer', peerIssuer: t.issuer().issuerId });
    const listing = await contents().listContents('payer');
    expect(listing.access).toEqual({ owner: false, session: 'issuer', issuer: t.issuer().issuerId });
    expect(await body('seat')).toBe(seat.body);
    expect((await contents().readContent('payer', seat.id)).body).toBe(seat.body);
    expect(await body('name')).toBeUndefined();
    expect(await rejection(contents().readContent('payer', personal.id))).toMatchObject({
      code: 'E_ACCESS_DENIED',
    });

    // The payee demanding issuer mode of the customer's plain card: the payee card refuses.
    expect(await rejection(contents().authenticate({ payeeMode: 'issuer' }))).toMatchObject({
      code: 'E_ACCESS_DENIED',
      details: { slot: 'payee', sw: SW.SECURITY_STATUS_NOT_SATISFIED },
    });
  });
});

describe('transmission and exchange over pcscd', () => {
  it('the shop’s card sends a ticket, then sells one for e-money', async () => {
    const gift = await issue('payee', item({ label: 'gift' }));
    const sold = await issue('payee');
    await services().engine.login('payer', PINS.payer);
    await contents().authenticate();
    const before = t.balances();

    const sent = await contents().send({ from: 'payee', itemId: gift.id });
    expect(sent).toMatchObject({ status: 'completed', kind: 'content-transfer' });
    if (sent.status !== 'completed') throw new Error(sent.status);
    expect(
      services()
        .journal.entriesForFlow(sent.flowId)
        .map((e) => e.step),
    ).toEqual(['started', 'sent', 'received', 'committed', 'accepted', 'completed']);

    const bought = await contents().exchange({
      initiator: 'payer',
      give: { amount: PRICE },
      take: { itemId: sold.id },
    });
    expect(bought).toMatchObject({
      status: 'completed',
      kind: 'content-exchange',
      balances: { payer: before.payer - PRICE },
    });
    expect(t.balances()).toEqual({ payer: before.payer - PRICE, payee: before.payee + PRICE });
    const customer = t.state('payer').contents.map((i) => i.id);
    expect(customer).toEqual(expect.arrayContaining([gift.id, sold.id]));
    expect(t.state('payee').contents.map((i) => i.id)).not.toContain(sold.id);
    expectSettled();
  });
});

describe('the sale interrupted at every content command over pcscd', () => {
  // X: the customer's payment, Y: the shop's ticket (Fig. 8).
  const commands: [string, number, SlotName][] = [
    ['X SEND', INS.CONTENT_SEND, 'payer'],
    ['X RECEIVE', INS.CONTENT_RECEIVE, 'payee'],
    ['Y SEND', INS.CONTENT_SEND, 'payee'],
    ['Y RECEIVE', INS.CONTENT_RECEIVE, 'payer'],
    ['X COMMIT', INS.CONTENT_COMMIT, 'payer'],
    ['X ACCEPT', INS.CONTENT_ACCEPT, 'payee'],
    ['Y ACCEPT', INS.CONTENT_ACCEPT, 'payer'],
    ['Y ACKNOWLEDGE', INS.CONTENT_ACKNOWLEDGE, 'payee'],
  ];
  const faults: CardFault[] = ['pull-before', 'pull-after'];
  const matrix = commands.flatMap(([name, ins, slot], index) =>
    faults.map((fault) => [name, fault, ins, slot, index] as const),
  );

  it.each(matrix)('%s: %s', async (_name, fault, ins, slot, index) => {
    // A ticket left by a rolled-back case is sold again.
    const ticket = t.state('payee').contents[0] ?? (await issue('payee'));
    await services().engine.login('payer', PINS.payer);
    await contents().authenticate();
    const before = snapshot();
    const balances = t.balances();
    const armed = t.arm(slot, ins, fault);
    let outcome: Awaited<ReturnType<ContentEngine['exchange']>>;
    try {
      outcome = await contents().exchange({
        initiator: 'payer',
        give: { amount: PRICE },
        take: { itemId: ticket.id },
      });
    } finally {
      t.clearFaults();
    }
    expect(armed.fired()).toBe(true);
    expect(outcome.status).toBe('interrupted');
    if (outcome.status !== 'interrupted') throw new Error(outcome.status);
    expect(['E_TRANSPORT', 'E_CARD_ABSENT']).toContain(outcome.error.code);
    // In flight: no value created, the ticket on at most one card.
    const mid = t.balances();
    expect(mid.payer + mid.payee).toBeLessThanOrEqual(balances.payer + balances.payee);
    const holders = (['payer', 'payee'] as const).filter((s) =>
      t.state(s).contents.some((i) => i.id === ticket.id),
    );
    expect(holders.length).toBeLessThanOrEqual(1);

    // The card is presented again; recovery settles both cards from their signed records.
    await t.insert(slot);
    await contents().recover();
    const rollsForward = index > 4 || (index === 4 && fault === 'pull-after');
    const [customerItems, shopItems] = (JSON.parse(before) as { items: string[][] }).items;
    const swapped = JSON.stringify({
      balances: [balances.payer - PRICE, balances.payee + PRICE],
      items: [[...customerItems!, ticket.id].sort(), shopItems!.filter((id) => id !== ticket.id)],
    });
    expect(snapshot()).toBe(rollsForward ? swapped : before);
    expectSettled();
    const steps = services()
      .journal.entriesForFlow(outcome.flowId)
      .map((e) => e.step);
    expect(steps).toContain('interrupted');
    expect(['completed', 'rolled-back']).toContain(steps.at(-1));
  });
});
