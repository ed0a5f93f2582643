// The content engine over simulated slots (seed 000): mutual authentication and its refusals,
// contents listed as each access level allows, transmission and exchange journaled step by step,
// and interruption at every content command (the communication monitor's timeout before or after
// the card acted, the card pulled before or after it acted): afterwards both cards are entirely
// before or entirely after, nothing is duplicated or lost, the flow is closed and the log verifies.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { settlementStateCodec } from '../../card-sim/applets/settlement/state.js';
import { createIssuer, loadIssuer, personalizeCard } from '../../card-sim/issuer/issuer.js';
import { FileBackend, MemoryBackend } from '../../card-sim/os/persistence-backend.js';
import { createSettlementCard } from '../../card-sim/settlement-card.js';
import { ContentEngine } from '../../electron/services/contents/content-engine.js';
import type { SlotName } from '../../electron/services/slots/reader-slots.js';
import { toHex } from '../../protocol/bytes.js';
import { randomBytes } from '../../protocol/crypto-suite.js';
import { INS } from '../../protocol/settlement/commands.js';
import type { ContentItem } from '../../protocol/settlement/contents-codec.js';
import { arm, FAULTS, type Fault, presentAgain } from '../support/card-faults.js';
import { DEFAULT_CARD, TEST_CURRENCY } from '../support/card-fixtures.js';
import { cliProcess } from '../support/cli-process.js';
import { createUnderRight, ticket } from '../support/content-fixtures.js';
import { makeTerminal, type TerminalUnderTest, terminalRecovery } from '../support/terminal-fixtures.js';

const PRICE = 1500;

function terminal(o: Parameters<typeof makeTerminal>[0] = {}) {
  // The customer pays from the payer slot; the shop's issuer card sits in the payee slot.
  const t = makeTerminal({
    payer: { balance: 5000 },
    payee: { balance: 0, issuerCard: true, pin: '0000' },
    ...o,
  });
  const contents = new ContentEngine(t.engine, { journal: t.journal, flows: t.flows, slots: t.slots });
  return { t, contents };
}

/** CREATE CONTENT under a create right signed by the test issuer's authority, over the engine's session. */
async function issueTo(t: TerminalUnderTest, slot: SlotName, item: ContentItem): Promise<void> {
  await t.engine.withCards(async (cards) => {
    const s = await cards.session(slot);
    await createUnderRight(t.issuer, s.client, s.info.holderId, cards.now(), item);
  });
}

/** What must be identical "entirely before" or "entirely after": purses and which card holds which item. */
function snapshot(t: TerminalUnderTest) {
  const c = t.cards.payer.store.read();
  const s = t.cards.payee.store.read();
  return JSON.stringify({
    balances: [c.balance, s.balance],
    items: [c.contents.map((i) => i.id).sort(), s.contents.map((i) => i.id).sort()],
  });
}

function expectSettled(t: TerminalUnderTest, contents: ContentEngine) {
  for (const slot of ['payer', 'payee'] as const) {
    const s = t.cards[slot].store.read();
    expect(s.contents.filter((i) => i.lockedBy)).toEqual([]);
    expect(s.contentLog.filter((r) => ['open', 'deleted', 'pending'].includes(r.status))).toEqual([]);
  }
  expect(contents.openFlows()).toEqual([]);
  expect(t.journal.verify()).toMatchObject({ ok: true });
}

const steps = (t: TerminalUnderTest, flowId: string) => t.journal.entriesForFlow(flowId).map((e) => e.step);

/** A ticket on the shop's card, the customer logged in, both cards authenticated. */
async function ticketShop(o: Parameters<typeof makeTerminal>[0] = {}) {
  const { t, contents } = terminal(o);
  const item = ticket(t.issuer);
  await issueTo(t, 'payee', item);
  await t.engine.login('payer', '1234');
  await contents.authenticate();
  return { t, contents, item };
}

describe('mutual authentication', () => {
  it('gives both cards the same session ID at basic level, held until a card is pulled', async () => {
    const { t, contents } = terminal();
    const r = await contents.authenticate();
    expect(r.payer.sessionId).toMatch(/^[0-9A-F]{32}$/);
    expect(r.payee.sessionId).toBe(r.payer.sessionId);
    expect(r).toMatchObject({
      payer: { level: 'basic', mode: 'basic', peerHolderId: t.cards.payee.store.read().holderId },
      payee: { level: 'basic', peerHolderId: t.cards.payer.store.read().holderId },
      warnings: [],
    });
    expect(contents.currentSession()).toBeDefined();
    t.slots.remove('payee');
    expect(contents.currentSession()).toBeUndefined();
  });

  it('issuer mode grants issuer access only when the peer is the issuer card', async () => {
    const { t, contents } = terminal();
    const r = await contents.authenticate({ payerMode: 'issuer' });
    expect(r.payer).toMatchObject({ mode: 'issuer', level: 'issuer', peerIssuer: t.issuer.issuerId });
    expect(r.payee.level).toBe('basic');
    // The payee requires an issuer card of the payer, a plain customer card: the card refuses.
    await expect(contents.authenticate({ payeeMode: 'issuer' })).rejects.toMatchObject({
      code: 'E_ACCESS_DENIED',
      details: { slot: 'payee', sw: 0x6982 },
    });
    expect(contents.currentSession()).toBeUndefined();
  });

  const refusals: [string, Parameters<typeof makeTerminal>[0], string][] = [
    ['a revoked certificate', { revoke: ['payee'] }, 'E_PKI_REVOKED'],
    ['an expired card', { payer: { validity: '20261120' } }, 'E_CARD_EXPIRED'],
    ['a stale CRL under the refuse policy', { crlValidityDays: 0 }, 'E_CRL_STALE'],
  ];
  it.each(refusals)('refuses %s before any authentication command', async (_n, setup, code) => {
    const { t, contents } = terminal(setup);
    const seen: number[] = [];
    for (const card of [t.cards.payer.os, t.cards.payee.os]) {
      const transmit = card.transmit.bind(card);
      card.transmit = (apdu) => {
        seen.push(apdu[1]!);
        return transmit(apdu);
      };
    }
    await expect(contents.authenticate()).rejects.toMatchObject({ code });
    expect(seen.filter((ins) => ins >= INS.AUTH_BEGIN && ins <= INS.AUTH_CONFIRM)).toEqual([]);
  });

  it('refuses a card certified by another CA (forged certificate) and the same card twice', async () => {
    const { t, contents } = terminal();
    const rogue = createIssuer({ name: 'Rogue', currency: TEST_CURRENCY, now: new Date('2026-01-01') });
    const forged = createSettlementCard({
      backend: new MemoryBackend(),
      initial: personalizeCard(rogue, DEFAULT_CARD),
    });
    t.slots.remove('payee');
    t.slots.insert('payee', forged.os);
    await expect(contents.authenticate()).rejects.toMatchObject({
      code: 'E_PKI_SIGNATURE',
      details: { slot: 'payee' },
    });
    t.slots.remove('payee');
    t.slots.insert('payee', t.cards.payer.os);
    await expect(contents.authenticate()).rejects.toMatchObject({ code: 'E_SAME_CARD' });
  });
});

describe('contents shown as the access level allows', () => {
  it('public, basic session, owner and issuer levels; reads refused by the card', async () => {
    const { t, contents } = terminal();
    const items = {
      seat: ticket(t.issuer, { policy: 'issuer-alterable', label: 'seat' }),
      key: ticket(t.issuer, { type: 'key', policy: 'secret', label: 'key', body: toHex(randomBytes(16)) }),
      personal: ticket(t.issuer, {
        type: 'personal-data',
        policy: 'owner-only',
        label: 'name',
        body: toHex(new TextEncoder().encode('Alice')),
      }),
      coupon: ticket(t.issuer, { type: 'coupon', policy: 'public', label: 'coupon', body: '01' }),
    };
    for (const item of Object.values(items)) await issueTo(t, 'payer', item);
    const shown = async () => {
      const l = await contents.listContents('payer');
      return {
        access: l.access,
        bodies: Object.fromEntries(l.items.map((i) => [i.label, i.body !== undefined])),
      };
    };
    const bodies = (seat: boolean, name: boolean) => ({ seat, key: false, name, coupon: true });

    expect(await shown()).toEqual({
      access: { owner: false, session: 'none' },
      bodies: bodies(false, false),
    });
    await contents.authenticate();
    expect(await shown()).toEqual({
      access: { owner: false, session: 'basic' },
      bodies: bodies(false, false),
    });
    await expect(contents.readContent('payer', items.seat.id)).rejects.toMatchObject({
      code: 'E_ACCESS_DENIED',
      details: { sw: 0x6982, slot: 'payer' },
    });
    expect((await contents.readContent('payer', items.coupon.id)).body).toBe('01');

    await t.engine.login('payer', '1234');
    expect(await shown()).toEqual({ access: { owner: true, session: 'basic' }, bodies: bodies(true, true) });
    expect((await contents.readContent('payer', items.personal.id)).body).toBe(items.personal.body);
    await expect(contents.readContent('payer', items.key.id)).rejects.toMatchObject({
      code: 'E_ACCESS_DENIED',
    });

    await contents.logout('payer');
    await contents.authenticate({ payerMode: 'issuer' });
    expect(await shown()).toEqual({
      access: { owner: false, session: 'issuer', issuer: t.issuer.issuerId },
      bodies: bodies(true, false),
    });
    expect((await contents.readContent('payer', items.seat.id)).body).toBe(items.seat.body);
    await expect(contents.readContent('payer', items.personal.id)).rejects.toMatchObject({
      code: 'E_ACCESS_DENIED',
    });
    await expect(contents.readContent('payer', toHex(randomBytes(16)))).rejects.toMatchObject({
      code: 'E_INPUT_INVALID',
      details: { sw: 0x6a88 },
    });
  });
});

describe('transmission (Figs. 6–7)', () => {
  it('the shop dispenses a ticket; every step journaled; the body never crosses the terminal in clear', async () => {
    const { t, contents, item } = await ticketShop();
    const outcome = await contents.send({ from: 'payee', itemId: item.id });
    expect(outcome).toMatchObject({
      status: 'completed',
      kind: 'content-transfer',
      balances: { payer: 5000 },
    });
    if (outcome.status !== 'completed') throw new Error(outcome.status);
    expect(steps(t, outcome.flowId)).toEqual([
      'started',
      'sent',
      'received',
      'committed',
      'accepted',
      'completed',
    ]);
    const [started] = t.journal.entriesForFlow(outcome.flowId);
    expect(started!.payload).toMatchObject({
      senderId: t.cards.payee.store.read().holderId,
      receiverId: t.cards.payer.store.read().holderId,
      offer: { itemId: item.id, label: item.label, type: 'ticket' },
      sessionId: contents.currentSession()!.payer.sessionId,
    });
    expect(JSON.stringify(t.journal.entriesForFlow(outcome.flowId))).not.toContain(item.body);
    expect(t.cards.payer.store.read().contents.map((i) => i.id)).toEqual([item.id]);
    expect(t.cards.payee.store.read().contents).toEqual([]);
    expectSettled(t, contents);
  });

  it('pays an amount with the owner’s PIN; without it the card refuses and nothing moves', async () => {
    const { t, contents } = terminal();
    await contents.authenticate();
    const refused = await contents.send({ from: 'payer', amount: 250 });
    expect(refused).toMatchObject({ status: 'refused', error: { code: 'E_PIN_REQUIRED' } });
    if (refused.status !== 'refused') throw new Error(refused.status);
    expect(steps(t, refused.flowId!)).toEqual(['started', 'failed-no-value-moved']);
    expect(t.balances()).toEqual({ payer: 5000, payee: 0 });
    await t.engine.login('payer', '1234');
    expect(await contents.send({ from: 'payer', amount: 250 })).toMatchObject({
      status: 'completed',
      balances: { payer: 4750 },
    });
    expect(t.balances()).toEqual({ payer: 4750, payee: 250 });
    expectSettled(t, contents);
  });

  it('needs an authenticated session, which ends with the card session', async () => {
    const { t, contents, item } = await ticketShop();
    t.slots.remove('payer');
    await new Promise((resolve) => setImmediate(resolve)); // the old channel closes
    t.slots.insert('payer', t.cards.payer.os);
    const before = t.journal.verify();
    expect(await contents.send({ from: 'payee', itemId: item.id })).toMatchObject({
      status: 'refused',
      error: { code: 'E_ACCESS_DENIED' },
    });
    await contents.authenticate();
    await contents.logout('payee');
    expect(await contents.send({ from: 'payee', itemId: item.id })).toMatchObject({
      status: 'refused',
      error: { code: 'E_ACCESS_DENIED' },
    });
    await contents.authenticate();
    expect(await contents.send({ from: 'payee', itemId: toHex(randomBytes(16)) })).toMatchObject({
      status: 'refused',
      error: { code: 'E_INPUT_INVALID' },
    });
    expect(t.journal.verify()).toEqual(before); // refused before any flow began
    expect(await contents.send({ from: 'payee', itemId: item.id })).toMatchObject({ status: 'completed' });
  });
});

describe('exchange (Fig. 8): buying a ticket', () => {
  it('swaps the ticket and the price atomically, every card answer journaled before the next command', async () => {
    const { t, contents, item } = await ticketShop();
    const seen: { ins: number; journaled: string | undefined }[] = [];
    for (const card of [t.cards.payer.os, t.cards.payee.os]) {
      const transmit = card.transmit.bind(card);
      card.transmit = (apdu) => {
        const open = t.flows.openFlows().find((f) => f.flowKind === 'content-exchange');
        if (apdu[0] === 0x80 && apdu[1]! >= INS.CONTENT_SEND && apdu[1]! <= INS.CONTENT_ACKNOWLEDGE)
          seen.push({ ins: apdu[1]!, journaled: open?.lastStep });
        return transmit(apdu);
      };
    }
    const outcome = await contents.exchange({
      initiator: 'payer',
      give: { amount: PRICE },
      take: { itemId: item.id },
    });
    expect(outcome).toMatchObject({
      status: 'completed',
      kind: 'content-exchange',
      balances: { payer: 3500 },
    });
    if (outcome.status !== 'completed') throw new Error(outcome.status);
    expect(outcome.txIds).toHaveLength(2);
    // The log's index: the e-money leg, the ticket, the two cards in role order (initiator, responder).
    expect(t.flows.flow(outcome.flowId)).toMatchObject({
      amount: PRICE,
      currency: TEST_CURRENCY,
      items: [{ label: item.label, type: 'ticket' }],
      cards: [
        { holderId: t.cards.payer.store.read().holderId },
        { holderId: t.cards.payee.store.read().holderId },
      ],
    });
    expect(seen).toEqual([
      { ins: INS.CONTENT_SEND, journaled: 'started' },
      { ins: INS.CONTENT_RECEIVE, journaled: 'first-sent' },
      { ins: INS.CONTENT_SEND, journaled: 'first-received' },
      { ins: INS.CONTENT_RECEIVE, journaled: 'second-sent' },
      { ins: INS.CONTENT_COMMIT, journaled: 'second-received' },
      { ins: INS.CONTENT_ACCEPT, journaled: 'first-committed' },
      { ins: INS.CONTENT_ACCEPT, journaled: 'first-accepted' },
      { ins: INS.CONTENT_ACKNOWLEDGE, journaled: 'second-accepted' },
    ]);
    expect(t.journal.entriesForFlow(outcome.flowId)[0]!.payload).toMatchObject({
      give: { amount: PRICE, currency: TEST_CURRENCY },
      take: { itemId: item.id, label: item.label },
    });
    expect(t.balances()).toEqual({ payer: 5000 - PRICE, payee: PRICE });
    expect(t.cards.payer.store.read().contents.map((i) => i.id)).toEqual([item.id]);
    expect(t.cards.payee.store.read().contents).toEqual([]);
    expectSettled(t, contents);
  });

  it('refused by the paying card: nothing moved, the flow closed as such', async () => {
    const { t, contents, item } = await ticketShop({ payer: { balance: 1000 } });
    const before = snapshot(t);
    const outcome = await contents.exchange({
      initiator: 'payer',
      give: { amount: PRICE },
      take: { itemId: item.id },
    });
    expect(outcome).toMatchObject({ status: 'refused', error: { code: 'E_INSUFFICIENT_FUNDS' } });
    if (outcome.status !== 'refused') throw new Error(outcome.status);
    expect(steps(t, outcome.flowId!)).toEqual(['started', 'failed-no-value-moved']);
    expect(snapshot(t)).toBe(before);
    expectSettled(t, contents);
    // A card's refusal resets nothing: the customer stays logged in and the cards authenticated.
    expect(await t.engine.readCard('payer')).toMatchObject({ ownerLoggedIn: true, balance: 1000 });
    expect(contents.currentSession()).toBeDefined();
    const listing = await contents.listContents('payer');
    expect(listing.access).toMatchObject({ owner: true, session: 'basic' });
  });

  it('refused by the responding card after the first half moved: rolled back on both cards', async () => {
    const { t, contents, item } = await ticketShop();
    await issueTo(t, 'payer', ticket(t.issuer, { label: 'voucher' }));
    const voucher = t.cards.payer.store.read().contents.find((i) => i.label === 'voucher')!;
    const before = snapshot(t);
    // The shop is asked to pay, but its owner has not given the PIN: it refuses its half.
    const outcome = await contents.exchange({
      initiator: 'payer',
      give: { itemId: voucher.id },
      take: { amount: 100 },
    });
    expect(outcome).toMatchObject({
      status: 'rolled-back',
      error: { code: 'E_PIN_REQUIRED', details: { slot: 'payee' } },
    });
    if (outcome.status !== 'rolled-back') throw new Error(outcome.status);
    expect(steps(t, outcome.flowId)).toEqual([
      'started',
      'first-sent',
      'first-received',
      'card-refused',
      'rolled-back',
    ]);
    expect(snapshot(t)).toBe(before);
    expectSettled(t, contents);
    // The session survives a refusal: the ticket purchase goes ahead.
    expect(
      await contents.exchange({ initiator: 'payer', give: { amount: PRICE }, take: { itemId: item.id } }),
    ).toMatchObject({ status: 'completed' });
  });
});

/** The card acted on the commit (the sender deleted): recovery rolls forward; before it, back. */
const afterCommit = (commitIndex: number, index: number, fault: Fault) =>
  index > commitIndex ||
  (index === commitIndex && (fault === 'timeout-after-card' || fault === 'pulled-after'));

describe('transmission interrupted at every content command', () => {
  const commands: [string, number, SlotName][] = [
    ['CONTENT SEND', INS.CONTENT_SEND, 'payee'],
    ['CONTENT RECEIVE', INS.CONTENT_RECEIVE, 'payer'],
    ['CONTENT COMMIT', INS.CONTENT_COMMIT, 'payee'],
    ['CONTENT ACCEPT', INS.CONTENT_ACCEPT, 'payer'],
    ['CONTENT ACKNOWLEDGE', INS.CONTENT_ACKNOWLEDGE, 'payee'],
  ];
  const matrix = commands.flatMap(([name, ins, slot], index) =>
    FAULTS.map((fault) => [name, fault, ins, slot, index] as const),
  );

  it.each(matrix)('%s: %s', async (_name, fault, ins, slot, index) => {
    const { t, contents, item } = await ticketShop();
    const before = snapshot(t);
    const fired = arm(t, slot, ins, fault);
    const outcome = await contents.send({ from: 'payee', itemId: item.id });
    expect(fired()).toBe(true);
    expect(outcome.status).toBe('interrupted');
    if (outcome.status !== 'interrupted') throw new Error(outcome.status);
    expect(outcome.error.code).toBe(fault.startsWith('timeout') ? 'E_TRANSPORT_TIMEOUT' : 'E_TRANSPORT');
    expect(steps(t, outcome.flowId)).toContain('interrupted');

    presentAgain(t);
    await contents.recover();
    const moved = JSON.stringify({ balances: [5000, 0], items: [[item.id], []] });
    expect(snapshot(t)).toBe(afterCommit(2, index, fault) ? moved : before);
    expectSettled(t, contents);
    expect(['completed', 'rolled-back']).toContain(steps(t, outcome.flowId).at(-1));
    const settled = snapshot(t);
    expect(await contents.recover()).toEqual([]);
    expect(snapshot(t)).toBe(settled);
  });
});

describe('exchange interrupted at every content command', () => {
  // X: the customer's payment, Y: the shop's ticket.
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
  const matrix = commands.flatMap(([name, ins, slot], index) =>
    FAULTS.map((fault) => [name, fault, ins, slot, index] as const),
  );

  it.each(matrix)('%s: %s', async (_name, fault, ins, slot, index) => {
    const { t, contents, item } = await ticketShop();
    const before = snapshot(t);
    const fired = arm(t, slot, ins, fault);
    const outcome = await contents.exchange({
      initiator: 'payer',
      give: { amount: PRICE },
      take: { itemId: item.id },
    });
    expect(fired()).toBe(true);
    expect(outcome.status).toBe('interrupted');
    if (outcome.status !== 'interrupted') throw new Error(outcome.status);
    // Before recovery: no value created, no item on both cards.
    const mid = t.balances();
    expect(mid.payer + mid.payee).toBeLessThanOrEqual(5000);
    const holders = [t.cards.payer, t.cards.payee].filter((c) =>
      c.store.read().contents.some((i) => i.id === item.id),
    );
    expect(holders.length).toBeLessThanOrEqual(1);

    presentAgain(t);
    await contents.recover();
    const swapped = JSON.stringify({ balances: [5000 - PRICE, PRICE], items: [[item.id], []] });
    expect(snapshot(t)).toBe(afterCommit(4, index, fault) ? swapped : before);
    expectSettled(t, contents);
    const entries = steps(t, outcome.flowId);
    expect(entries[0]).toBe('started');
    expect(entries).toContain('interrupted');
    expect(['completed', 'rolled-back']).toContain(entries.at(-1));
    expect(await contents.recover()).toEqual([]);

    // The cards still work: a new session, and the purchase (or another one) completes.
    await t.engine.login('payer', '1234');
    await contents.authenticate();
    const next = ticket(t.issuer, { label: 'next' });
    await issueTo(t, 'payee', next);
    expect(
      await contents.exchange({ initiator: 'payer', give: { amount: 100 }, take: { itemId: next.id } }),
    ).toMatchObject({ status: 'completed' });
    expectSettled(t, contents);
  });

  it('a card falling silent during recovery leaves the flow open, never wrongly closed', async () => {
    const { t, contents, item } = await ticketShop();
    arm(t, 'payer', INS.CONTENT_ACCEPT, 'pulled-before');
    const outcome = await contents.exchange({
      initiator: 'payer',
      give: { amount: PRICE },
      take: { itemId: item.id },
    });
    expect(outcome).toMatchObject({ status: 'interrupted', recovery: 'waiting' });
    presentAgain(t);
    // The customer's card does not answer its first CONTENT STATUS: that is no "no record".
    let fired = false;
    t.slots.stall('payer', {
      when: (apdu) => {
        if (fired || apdu[1] !== INS.CONTENT_STATUS) return false;
        fired = true;
        return true;
      },
    });
    await expect(contents.recover()).rejects.toMatchObject({ code: 'E_TRANSPORT_TIMEOUT' });
    expect(contents.openFlows()).toMatchObject([{ lastStep: 'interrupted' }]);
    expect(await contents.recover()).toMatchObject([{ outcome: 'completed' }]);
    expect(t.cards.payer.store.read().contents.map((i) => i.id)).toEqual([item.id]);
    expectSettled(t, contents);
  });

  it('an exchange waiting for a pulled card is finished when the card is presented again', async () => {
    const { t, contents, item } = await ticketShop();
    arm(t, 'payer', INS.CONTENT_ACCEPT, 'pulled-before');
    const outcome = await contents.exchange({
      initiator: 'payer',
      give: { amount: PRICE },
      take: { itemId: item.id },
    });
    expect(outcome).toMatchObject({ status: 'interrupted', recovery: 'waiting' });
    // The shop already holds the price and gave up the ticket; the ticket is in flight to the customer.
    expect(t.balances()).toEqual({ payer: 5000 - PRICE, payee: PRICE });
    expect(contents.openFlows()).toMatchObject([{ kind: 'content-exchange', lastStep: 'interrupted' }]);
    const recovery = terminalRecovery(t);
    recovery.watchInsertions();
    t.slots.clearFaults('payer');
    t.slots.insert('payer', t.cards.payer.os);
    await recovery.settled();
    expect(contents.openFlows()).toEqual([]);
    expect(t.cards.payer.store.read().contents.map((i) => i.id)).toEqual([item.id]);
    expectSettled(t, contents);
  });
});

describe('terminal CLI (one process per command: login, authenticate, act)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'contents-cli-'));
  const config = join(dir, 'demo', 'terminal.json');
  const cli = cliProcess('electron/cli/main.ts', dir);

  it('authenticate, contents, exchange (buy a ticket), send, as the levels allow', () => {
    expect(cli('demo-setup', '--dir', join(dir, 'demo')).code).toBe(0);
    // The shop's card (payee, an issuer card) holds one ticket of its issuer.
    const shopFile = join(dir, 'demo', 'payee-card.json');
    const backend = new FileBackend(shopFile);
    const shop = settlementStateCodec.decode(backend.load()!);
    const item = ticket(loadIssuer(join(dir, 'demo', 'issuer.json')));
    shop.contents.push({ ...item });
    backend.store(settlementStateCodec.encode(shop));

    const auth = cli('authenticate', '--config', config, '--payer-mode', 'issuer', '--json');
    expect(auth.code, auth.stderr).toBe(0);
    expect(auth.json()).toMatchObject({ payer: { level: 'issuer' }, payee: { level: 'basic' } });
    expect(auth.json().payer.sessionId).toBe(auth.json().payee.sessionId);

    const listed = cli('contents', '--config', config, '--slot', 'payee', '--json').json();
    expect(listed).toMatchObject([{ slot: 'payee', access: { owner: false, session: 'none' } }]);
    expect(listed[0].items).toEqual([expect.objectContaining({ id: item.id, label: item.label })]);
    expect(listed[0].items[0].body).toBeUndefined();
    const read = cli('contents', '--config', config, '--slot', 'payee', '--item', item.id);
    expect(read.code).toBe(2);
    expect(read.stderr).toMatch(/^error E_ACCESS_DENIED: /);
    const owner = cli(
      'contents',
      '--config',
      config,
      '--slot',
      'payee',
      '--item',
      item.id,
      '--payee-pin',
      '0000',
    );
    expect(owner.stdout).toContain('"seat B12"');

    const sale = cli(
      'exchange',
      '--config',
      config,
      '--give-amount',
      '15.00',
      '--take-item',
      item.id.toLowerCase(),
      '--payer-pin',
      '1234',
      '--json',
    );
    expect(sale.code, sale.stdout).toBe(0);
    expect(sale.json()).toMatchObject({
      status: 'completed',
      kind: 'content-exchange',
      balances: { payer: 18_500 },
    });
    const mine = cli(
      'contents',
      '--config',
      config,
      '--slot',
      'payer',
      '--payer-pin',
      '1234',
      '--json',
    ).json();
    expect(mine[0].items).toEqual([expect.objectContaining({ id: item.id, body: item.body })]);

    const unpaid = cli('send', '--config', config, '--from', 'payer', '--amount', '1.00', '--json');
    expect(unpaid.code).toBe(3);
    expect(unpaid.json()).toMatchObject({ status: 'refused', error: { code: 'E_PIN_REQUIRED' } });
    expect(cli('recover-contents', '--config', config, '--json').json()).toEqual({ reports: [], open: [] });
    expect(cli('verify-log', '--config', config).code).toBe(0);
  }, 90_000);
});
