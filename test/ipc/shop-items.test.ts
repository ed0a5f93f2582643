// Items, PINs, receipts and the tray over the contract, with the demo shop's real services: a ticket
// issued on the shop's card under a create right and sold to the customer in one exchange (their PIN
// when needed), its seat changed in an issuer session, a blocked PIN unblocked with the issuer's code,
// receipts exported as PDF and ESC/POS and read back, and a card tray that exists only where it may.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadCardState } from '../../card-sim/card-files.js';
import { PIN, type ShopTerminal, startShopTerminal } from '../support/shop-terminal.js';
import { decodeEscPos } from '../terminal/receipts/escpos-decoder.js';
import { readPdf } from '../terminal/receipts/pdf-text.js';

let t: ShopTerminal;
const A = 'screen-a';
const text = (hex: string | undefined) => Buffer.from(hex ?? '', 'hex').toString('utf8');

beforeEach(async () => {
  t = await startShopTerminal();
});
afterEach(async () => {
  await t.close();
});

/** Issues a ticket on the shop's card; returns its item ID. */
async function issueTicket(label = 'Concert 24 Dec', bodyText = 'seat B12'): Promise<string> {
  const r = await t.ok(A, 'items:issue', { type: 'ticket', label, bodyText });
  expect(r).toMatchObject({ status: 'completed', receipt: { kind: 'issue', title: 'Issue' } });
  const item = t.cards.shop!.store.read().contents.find((c) => c.label === label);
  if (!item) throw new Error('not issued');
  return item.id;
}

describe('issue and sell a ticket', () => {
  beforeEach(async () => {
    await t.signIn('casey');
  });

  it('issues on the shop’s card under a create right, with a receipt', async () => {
    const id = await issueTicket();
    const item = t.cards.shop!.store.read().contents.find((c) => c.id === id);
    expect(item).toMatchObject({ type: 'ticket', policy: 'issuer-alterable', label: 'Concert 24 Dec' });
    expect(text(item?.body)).toBe('seat B12');
  });

  it('refuses to sell without the customer’s PIN, and with a wrong one, moving nothing', async () => {
    const id = await issueTicket();
    const before = { alice: t.cards.alice!.store.read(), shop: t.cards.shop!.store.read() };
    expect(await t.call(A, 'items:sell', { itemId: id, price: 15_00 })).toMatchObject({
      ok: false,
      error: { code: 'E_ACCESS_DENIED', details: { reason: 'owner-pin-needed' } },
    });
    expect(await t.call(A, 'items:sell', { itemId: id, price: 15_00, customerPin: '9999' })).toMatchObject({
      ok: false,
      error: { code: 'E_PIN_WRONG', details: { slot: 'payer' } },
    });
    expect(t.cards.shop!.store.read().contents).toEqual(before.shop.contents);
    expect(t.cards.alice!.store.read().balance).toBe(before.alice.balance);
  });

  it('sells it in one exchange: the ticket to the customer, the price to the shop, and a receipt', async () => {
    const id = await issueTicket();
    const before = t.balances();
    const r = await t.ok(A, 'items:sell', { itemId: id, price: 15_00, customerPin: PIN.alice });
    expect(r).toMatchObject({ status: 'completed', receipt: { kind: 'exchange' } });
    expect(t.balances()).toEqual({ alice: before.alice - 15_00, shop: before.shop + 15_00 });
    expect(t.cards.alice!.store.read().contents.map((c) => c.id)).toContain(id);
    expect(t.cards.shop!.store.read().contents.map((c) => c.id)).not.toContain(id);
    const receipt = r.status === 'completed' ? r.receipt : undefined;
    expect(receipt?.body).toEqual(
      expect.arrayContaining([
        { label: 'Customer gave', value: '€15.00', total: true },
        { label: 'Customer received', value: 'Ticket: Concert 24 Dec', total: false },
        { label: 'Customer balance', value: '€185.00' },
      ]),
    );
    // The customer's login ended after the sale.
    expect(await t.ok(A, 'cards:read', { slot: 'payer' })).toMatchObject({ ownerLoggedIn: false });
  });

  it('gives an item from the shop’s card without the customer’s PIN', async () => {
    const id = await issueTicket('Free coffee', 'CODE-1');
    const r = await t.ok(A, 'items:send', { itemId: id, from: 'payee' });
    expect(r).toMatchObject({ status: 'completed', receipt: { kind: 'item-send' } });
    expect(t.cards.alice!.store.read().contents.map((c) => c.id)).toContain(id);
  });
});

describe('change an item in an issuer session', () => {
  it('lets a supervisor change the seat on the customer’s ticket; the card decides', async () => {
    await t.signIn('casey');
    const id = await issueTicket();
    await t.ok(A, 'items:sell', { itemId: id, price: 15_00, customerPin: PIN.alice });
    expect(await t.call(A, 'items:alter', { slot: 'payer', itemId: id, bodyText: 'seat C7' })).toMatchObject({
      ok: false,
      error: { code: 'E_ACCESS_DENIED' },
    });
    await t.signIn('sam');
    expect(await t.ok(A, 'items:alter', { slot: 'payer', itemId: id, bodyText: 'seat C7' })).toMatchObject({
      status: 'completed',
    });
    expect(text(t.cards.alice!.store.read().contents.find((c) => c.id === id)?.body)).toBe('seat C7');
    // The shop's card is no issuer card of Alice's purse contents in the other direction: refused.
    const coupon = await issueTicket('Shop coupon', 'X');
    const r = await t.call(A, 'items:alter', { slot: 'payee', itemId: coupon, bodyText: 'Y' });
    expect(r.ok ? r.value.status : r.error.code).not.toBe('completed');
    expect(text(t.cards.shop!.store.read().contents.find((c) => c.id === coupon)?.body)).toBe('X');
  });
});

describe('a blocked PIN', () => {
  beforeEach(async () => {
    await t.signIn('sam');
    await t.ok(A, 'tray:move', { card: 'alice', to: 'tray' });
    await t.ok(A, 'tray:move', { card: 'erin', to: 'payer' });
  });

  it('is said by the card view, without spending a try', async () => {
    expect(await t.ok(A, 'cards:read', { slot: 'payer' })).toMatchObject({
      pin: { blocked: true, triesLeft: 0 },
    });
    expect(await t.ok(A, 'cards:read', { slot: 'payee' })).toMatchObject({
      pin: { blocked: false, triesLeft: 3 },
    });
    expect(t.cards.shop!.store.read().owner?.tries).toBe(3);
  });

  it('is unblocked with the issuer’s code and a new PIN; a wrong code is counted by the card', async () => {
    expect(
      await t.call(A, 'pin:unblock', { slot: 'payer', unblockCode: '00000000', newPin: '4321' }),
    ).toMatchObject({
      ok: false,
      error: { code: 'E_PIN_WRONG', details: { slot: 'payer' } },
    });
    expect(t.cards.erin!.store.read().puk?.tries).toBe(9);
    expect(
      await t.ok(A, 'pin:unblock', { slot: 'payer', unblockCode: t.unblockCode('Erin'), newPin: '4321' }),
    ).toEqual({
      slot: 'payer',
    });
    expect(await t.ok(A, 'cards:read', { slot: 'payer' })).toMatchObject({
      pin: { blocked: false, triesLeft: 3 },
    });
    expect(await t.ok(A, 'session:login', { slot: 'payer', pin: '4321' })).toMatchObject({
      ownerLoggedIn: true,
    });
    const flows = t.services.flows.all().filter((f) => f.flowKind === 'admin');
    const steps = flows.map((f) =>
      t.services.journal
        .entriesForFlow(f.flowId)
        .map((e) => e.step)
        .join(' '),
    );
    expect(steps).toEqual(['unblock-requested failed-no-value-moved', 'unblock-requested completed']);
    // Neither the code nor the PIN is in the journal.
    const all = JSON.stringify(flows.map((f) => t.services.journal.entriesForFlow(f.flowId)));
    expect(all).not.toContain(t.unblockCode('Erin'));
    expect(all).not.toContain('4321');
  });
});

describe('receipts', () => {
  it('exports a sale’s receipt as PDF and ESC/POS bytes that read back, and has none for a key update', async () => {
    await t.signIn('casey');
    const paid = await t.ok(A, 'transfer:run', { amount: 12_50 });
    const flowId = paid.status === 'completed' ? paid.flowId : '';
    const pdf = await t.ok(A, 'receipts:export', { flowId, format: 'pdf' });
    if (pdf.delivery !== 'download') throw new Error('the browser host downloads');
    expect(pdf).toMatchObject({ fileName: `receipt-${flowId.slice(0, 8)}.pdf`, mimeType: 'application/pdf' });
    const read = readPdf(new Uint8Array(Buffer.from(pdf.base64, 'base64')));
    expect(read.text).toContain('Corner Shop');
    expect(read.text).toMatch(/Paid\s+€12\.50/);
    expect(read.text).toContain(flowId);
    const escpos = await t.ok(A, 'receipts:export', { flowId, format: 'escpos' });
    if (escpos.delivery !== 'download') throw new Error('the browser host downloads');
    const printed = decodeEscPos(new Uint8Array(Buffer.from(escpos.base64, 'base64')));
    expect(printed.cut).toBe(true);
    expect(printed.lines.join('\n')).toContain('Corner Shop');
    expect(printed.lines.some((l) => /Paid\s+€12\.50/.test(l))).toBe(true);
    const keyUpdate = t.services.flows.all().find((f) => f.flowKind === 'key-update')!.flowId;
    expect(await t.call(A, 'receipts:get', { flowId: keyUpdate })).toMatchObject({
      ok: false,
      error: { code: 'E_INPUT_INVALID' },
    });
  });
});

describe('the demo card tray', () => {
  it('moves cards between the slots and the tray, refusing an occupied slot', async () => {
    await t.signIn('casey');
    expect(await t.ok(A, 'tray:status', {})).toMatchObject({ available: true });
    expect(await t.call(A, 'tray:move', { card: 'bob', to: 'payer' })).toMatchObject({
      ok: false,
      error: { code: 'E_INPUT_INVALID', details: { slot: 'payer' } },
    });
    const out = await t.ok(A, 'tray:move', { card: 'alice', to: 'tray' });
    expect(out.cards.find((c) => c.id === 'alice')?.place).toBe('tray');
    expect(t.slots.card('payer')).toBeUndefined();
    await t.ok(A, 'tray:move', { card: 'bob', to: 'payer' });
    expect(await t.ok(A, 'cards:read', { slot: 'payer' })).toMatchObject({
      certificate: { subject: expect.stringContaining('CN=Bob') },
    });
    expect(await t.call(A, 'tray:move', { card: 'zed', to: 'payer' })).toMatchObject({ ok: false });
  });
});

describe('a terminal without a tray (real readers, the Electron app)', () => {
  it('answers that there is none and refuses every move', async () => {
    const bare = await startShopTerminal({ handlers: (s) => ({ ...s, tray: undefined }) });
    try {
      await bare.signIn('sam');
      expect(await bare.ok(A, 'tray:status', {})).toEqual({ available: false, cards: [] });
      expect(await bare.call(A, 'tray:move', { card: 'alice', to: 'tray' })).toMatchObject({
        ok: false,
        error: { code: 'E_INPUT_INVALID' },
      });
      expect(bare.slots.card('payer')).toBeDefined();
    } finally {
      await bare.close();
    }
  });
});

// Keep the file honest about the card files: the tray goes through the slots, never the files.
it('never writes a tray card’s file it did not move value on', async () => {
  const s = await startShopTerminal();
  try {
    await s.signIn('casey');
    const file =
      s.config.slots.backend === 'simulated'
        ? s.config.slots.tray?.find((c) => c.id === 'bob')?.file
        : undefined;
    const before = loadCardState(file!);
    await s.ok(A, 'tray:move', { card: 'alice', to: 'tray' });
    await s.ok(A, 'tray:move', { card: 'bob', to: 'payer' });
    expect(loadCardState(file!).balance).toBe(before.balance);
  } finally {
    await s.close();
  }
});
