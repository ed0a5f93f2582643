// Issue 14 item 1, fewest APDUs (docs/protocol.md §4.8): what each flow sends, counted where the
// simulated reader hands each command to the card. Card info once per card presence, in one
// extended-length answer where the reader allows it; a balance only where it is shown or needed; each
// certificate's signature verified once per presence. And the other side of caching: nothing read
// from a card outlives its presence (removal, a reset, another card in the slot), and nothing the
// card changes is served stale.
import { describe, expect, it, vi } from 'vitest';
import type { PersonalizeOptions } from '../../card-sim/issuer/issuer.js';
import { personalizeCard } from '../../card-sim/issuer/issuer.js';
import { MemoryBackend } from '../../card-sim/os/persistence-backend.js';
import { createSettlementCard, type SimulatedCard } from '../../card-sim/settlement-card.js';
import { ContentEngine } from '../../electron/services/contents/content-engine.js';
import type { SlotName } from '../../electron/services/slots/reader-slots.js';
import { toHex } from '../../protocol/bytes.js';
import type { VirtualCard } from '../../protocol/virtual-card.js';
import { DEFAULT_CARD, TEST_PIN } from '../support/card-fixtures.js';
import { createUnderRight, ticket } from '../support/content-fixtures.js';
import { makeTerminal, type TerminalUnderTest } from '../support/terminal-fixtures.js';

// Counts the CA-signature verifications of card certificates (electron/services/settlement/card-checks.ts).
const verified = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../protocol/pki/index.js', async (importOriginal) => {
  const pki = await importOriginal<typeof import('../../protocol/pki/index.js')>();
  return {
    ...pki,
    verifyCertificateSignature: (...args: Parameters<typeof pki.verifyCertificateSignature>) => {
      verified.count++;
      return pki.verifyCertificateSignature(...args);
    },
  };
});

const NAMES: Record<string, string> = {
  '00A4': 'SELECT',
  '00C0': 'GET RESPONSE',
  '0020': 'VERIFY',
  '8010': 'GET CARD INFO',
  '8012': 'GET BALANCE',
  '8020': 'BEGIN KEY UPDATE',
  '8022': 'EXPORT TRANSFER KEY',
  '8024': 'APPLY KEY UPDATE',
  '8030': 'INITIATE DEBIT',
  '8032': 'INITIATE CREDIT',
  '8034': 'DEBIT',
  '8036': 'CREDIT',
  '8038': 'ACKNOWLEDGE DEBIT',
  '803E': 'GET TRANSACTION STATUS',
  '8050': 'AUTH BEGIN',
  '8052': 'AUTH PEER',
  '8054': 'AUTH CONFIRM',
  '8058': 'LIST CONTENTS',
  '8070': 'CONTENT SEND',
  '8072': 'CONTENT RECEIVE',
  '8074': 'CONTENT COMMIT',
  '8076': 'CONTENT ACCEPT',
  '807C': 'CONTENT ACKNOWLEDGE',
  '807E': 'CONTENT STATUS',
};

interface Sent {
  slot: SlotName;
  name: string;
  hex: string;
}

/** Records every APDU either card receives, as "slot: COMMAND". */
function apduLog(t: TerminalUnderTest) {
  const sent: Sent[] = [];
  for (const slot of ['payer', 'payee'] as const) {
    const os = t.cards[slot].os;
    const transmit = os.transmit.bind(os);
    os.transmit = (apdu) => {
      const hex = toHex(apdu).toUpperCase();
      sent.push({ slot, name: NAMES[hex.slice(0, 4)] ?? hex.slice(0, 4), hex });
      return transmit(apdu);
    };
  }
  return {
    sent,
    /** The commands sent since the last call, as "slot: COMMAND". */
    take(): string[] {
      return sent.splice(0).map((s) => `${s.slot}: ${s.name}`);
    },
  };
}

const OPEN = (slot: SlotName) => [`${slot}: SELECT`, `${slot}: GET CARD INFO`];
const VALUE_COMMANDS = [
  'payer: INITIATE DEBIT',
  'payee: INITIATE CREDIT',
  'payer: DEBIT',
  'payee: CREDIT',
  'payer: ACKNOWLEDGE DEBIT',
];

/** Pulls both cards and presents them again: a new presence each. */
function represent(t: TerminalUnderTest): Promise<void> {
  for (const slot of ['payer', 'payee'] as const) t.slots.remove(slot);
  for (const slot of ['payer', 'payee'] as const) t.slots.insert(slot, t.cards[slot].os);
  return new Promise((resolve) => setImmediate(resolve)); // the engine drops its sessions on the events
}

describe('a value transfer between two cards on the same key', () => {
  it('sends 9 APDUs from cards just presented: SELECT and one extended GET CARD INFO per card, the five value commands', async () => {
    const t = makeTerminal({ payer: { balance: 10_000 }, payee: { balance: 0 } });
    const log = apduLog(t);
    expect(await t.engine.transfer({ amount: 100 })).toMatchObject({
      status: 'completed',
      balances: { payer: undefined, payee: undefined }, // public level: masked, and never asked
    });
    const infoApdus = log.sent.filter((s) => s.name === 'GET CARD INFO').map((s) => s.hex);
    expect(log.take()).toEqual([...OPEN('payer'), ...OPEN('payee'), ...VALUE_COMMANDS]);
    expect(infoApdus).toEqual(['80100000000000', '80100000000000']); // extended Le: one answer
    expect(t.balances()).toEqual({ payer: 9_900, payee: 100 });
  });

  it('a second transfer in the same presence sends no SELECT and reads again only the info the first changed', async () => {
    const t = makeTerminal({ payer: { balance: 10_000 }, payee: { balance: 0 } });
    const log = apduLog(t);
    await t.engine.transfer({ amount: 100 });
    log.take();
    expect(await t.engine.transfer({ amount: 200 })).toMatchObject({ status: 'completed' });
    // Unsettled counts and no-PIN counters changed on both cards: read again, once each.
    expect(log.take()).toEqual(['payer: GET CARD INFO', 'payee: GET CARD INFO', ...VALUE_COMMANDS]);
  });

  it('over a reader limited to short APDUs, GET CARD INFO comes in parts chained by GET RESPONSE', async () => {
    const t = makeTerminal({ payer: { balance: 10_000 }, payee: { balance: 0 }, extendedLength: false });
    const log = apduLog(t);
    expect(await t.engine.transfer({ amount: 100 })).toMatchObject({ status: 'completed' });
    const chained = (slot: SlotName) => [
      `${slot}: SELECT`,
      `${slot}: GET CARD INFO`,
      `${slot}: GET RESPONSE`,
      `${slot}: GET RESPONSE`,
    ];
    const sent = log.sent.slice();
    expect(log.take()).toEqual([...chained('payer'), ...chained('payee'), ...VALUE_COMMANDS]);
    expect(sent.filter((s) => s.name === 'GET CARD INFO').map((s) => s.hex)).toEqual([
      '8010000000',
      '8010000000',
    ]);
  });

  it('with the payer logged in, shows its balance after the payment: one GET BALANCE, none for the masked payee', async () => {
    const t = makeTerminal({ payer: { balance: 10_000 }, payee: { balance: 0 } });
    const before = await t.engine.login('payer', TEST_PIN);
    expect(before.balance).toBe(10_000);
    const log = apduLog(t);
    const outcome = await t.engine.transfer({ amount: 100 });
    expect(outcome).toMatchObject({ status: 'completed', balances: { payer: 9_900, payee: undefined } });
    expect(log.take()).toEqual([...OPEN('payee'), ...VALUE_COMMANDS, 'payer: GET BALANCE']);
    // Shown afresh, never the figure from before the payment.
    expect((await t.engine.readCard('payer')).balance).toBe(9_900);
    expect(log.take()).toEqual(['payer: GET CARD INFO']); // the balance is current: only the info changed
  });
  it('a balance that cannot be read after the payment is not shown, and the transfer stays completed', async () => {
    const t = makeTerminal({ payer: { balance: 10_000 }, payee: { balance: 0 }, waitingTimeMs: 50 });
    await t.engine.login('payer', TEST_PIN);
    t.slots.stall('payer', { when: (apdu) => apdu[1] === 0x12 }); // GET BALANCE never answered
    const outcome = await t.engine.transfer({ amount: 100 });
    expect(outcome).toMatchObject({ status: 'completed', balances: { payer: undefined, payee: undefined } });
    if (outcome.status !== 'completed') throw new Error(outcome.status);
    expect(t.journal.entriesForFlow(outcome.flowId).at(-1)?.step).toBe('completed');
    expect(t.engine.openTransfers()).toEqual([]);
    expect(t.balances()).toEqual({ payer: 9_900, payee: 100 });
  });
});

describe('a key update', () => {
  const ROUTES: [string, Partial<PersonalizeOptions>, Partial<PersonalizeOptions>][] = [
    ['common-key', { transferKeyId: 1, updateKeyId: 1 }, { transferKeyId: 2, updateKeyId: 1 }],
    ['public-key', { transferKeyId: 1, updateKeyId: 1 }, { transferKeyId: 2, updateKeyId: 2 }],
    [
      'pre-stored switch',
      { transferKeyId: 1, updateKeyId: 1, prestoredTransferKeyIds: [2] },
      { transferKeyId: 2, updateKeyId: 1 },
    ],
  ];
  const KEY_COMMANDS = [
    'payer: BEGIN KEY UPDATE',
    'payee: EXPORT TRANSFER KEY',
    'payer: APPLY KEY UPDATE',
    // APPLY names no key IDs: the receiver's keys are read back for the journal.
    'payer: GET CARD INFO',
  ];

  for (const [route, payer, payee] of ROUTES) {
    it(`by the ${route} route sends 8 APDUs`, async () => {
      const t = makeTerminal({ payer, payee });
      const log = apduLog(t);
      const summaries = await t.engine.updateKeys();
      expect(summaries.map((s) => `${s.receiver}:${s.route}`)).toEqual([`payer:${route}`]);
      expect(log.take()).toEqual([...OPEN('payer'), ...OPEN('payee'), ...KEY_COMMANDS]);
      expect(t.cards.payer.store.read().transferKeyId).toBe(2);
    });
  }

  it('then a transfer on the new key sends only the value commands: the key IDs read back are current', async () => {
    const t = makeTerminal({
      payer: { transferKeyId: 1, updateKeyId: 1, balance: 1_000 },
      payee: { transferKeyId: 2, updateKeyId: 1 },
    });
    const log = apduLog(t);
    const outcome = await t.engine.transfer({ amount: 100 });
    expect(outcome).toMatchObject({ status: 'completed', keyUpdates: [{ receiver: 'payer' }] });
    expect(log.take()).toEqual([...OPEN('payer'), ...OPEN('payee'), ...KEY_COMMANDS, ...VALUE_COMMANDS]);
  });
});

describe('card-to-card work', () => {
  function shop() {
    const t = makeTerminal({
      payer: { balance: 5_000 },
      payee: { balance: 0, issuerCard: true, pin: '0000' },
    });
    const contents = new ContentEngine(t.engine, { journal: t.journal, flows: t.flows, slots: t.slots });
    return { t, contents };
  }
  const AUTH = [
    'payer: AUTH BEGIN',
    'payee: AUTH BEGIN',
    'payer: AUTH PEER',
    'payee: AUTH PEER',
    'payer: AUTH CONFIRM',
    'payee: AUTH CONFIRM',
  ];

  it('a mutual authentication sends 10 APDUs', async () => {
    const { t, contents } = shop();
    const log = apduLog(t);
    await contents.authenticate();
    expect(log.take()).toEqual([...OPEN('payer'), ...OPEN('payee'), ...AUTH]);
  });

  async function shopWithTicket() {
    const { t, contents } = shop();
    const item = ticket(t.issuer);
    await t.engine.withCards(async (cards) => {
      const s = await cards.session('payee');
      await createUnderRight(t.issuer, s.client, s.info.holderId, cards.now(), item);
    });
    return { t, contents, item };
  }

  it('a content send after the authentication sends its five commands, and the balance only where granted', async () => {
    const { t, contents, item } = await shopWithTicket();
    await t.engine.login('payer', TEST_PIN);
    await contents.authenticate();
    const log = apduLog(t);
    const outcome = await contents.send({ from: 'payee', itemId: item.id });
    expect(outcome).toMatchObject({ status: 'completed', balances: { payer: 5_000, payee: undefined } });
    expect(log.take()).toEqual([
      'payee: LIST CONTENTS', // what is offered (label, type) for the record and the screen
      'payee: CONTENT SEND',
      'payer: CONTENT RECEIVE',
      'payee: CONTENT COMMIT',
      'payer: CONTENT ACCEPT',
      'payee: CONTENT ACKNOWLEDGE',
      'payer: GET BALANCE', // the logged-in customer's purse, shown
    ]);
  });

  it('an exchange (a ticket bought) sends its eight commands, the ticket’s digest read for the issuer host, and the buyer’s balance shown after', async () => {
    const { t, contents, item } = await shopWithTicket();
    await t.engine.login('payer', TEST_PIN);
    await contents.authenticate();
    const log = apduLog(t);
    const outcome = await contents.exchange({
      initiator: 'payer',
      give: { amount: 1_500 },
      take: { itemId: item.id },
    });
    expect(outcome).toMatchObject({ status: 'completed', balances: { payer: 3_500, payee: undefined } });
    expect(log.take()).toEqual([
      'payee: LIST CONTENTS',
      'payer: CONTENT SEND',
      'payee: CONTENT RECEIVE',
      'payee: CONTENT SEND',
      'payee: CONTENT STATUS', // the ticket half's digest: the host checks the cards' signatures with it
      'payer: CONTENT RECEIVE',
      'payer: CONTENT COMMIT',
      'payee: CONTENT ACCEPT',
      'payer: CONTENT ACCEPT',
      'payee: CONTENT ACKNOWLEDGE',
      'payer: GET BALANCE',
    ]);
  });
});

describe('each certificate’s signature', () => {
  it('is verified once per card presence, however often the card is checked or shown', async () => {
    const t = makeTerminal({ payer: { balance: 10_000 }, payee: { balance: 0 } });
    verified.count = 0;
    await t.engine.readCard('payer');
    await t.engine.transfer({ amount: 100 });
    await t.engine.transfer({ amount: 100 });
    await t.engine.readCard('payee');
    expect(verified.count).toBe(2);
    await represent(t);
    await t.engine.transfer({ amount: 100 });
    expect(verified.count).toBe(4);
  });
});

describe('nothing read from a card outlives its presence', () => {
  it('a card pulled and presented again is selected and read afresh', async () => {
    const t = makeTerminal({ payer: { balance: 10_000 }, payee: { balance: 0 } });
    await t.engine.transfer({ amount: 100 });
    const log = apduLog(t);
    t.slots.remove('payee');
    t.slots.insert('payee', t.cards.payee.os);
    await new Promise((resolve) => setImmediate(resolve));
    await t.engine.transfer({ amount: 100 });
    expect(log.take()).toEqual(['payer: GET CARD INFO', ...OPEN('payee'), ...VALUE_COMMANDS]);
  });

  it('another card put in the slot is the one paid: its own holder ID, key and balance', async () => {
    const t = makeTerminal({ payer: { balance: 10_000 }, payee: { balance: 0 } });
    await t.engine.transfer({ amount: 100 });
    const other = createSettlementCard({
      backend: new MemoryBackend(),
      initial: personalizeCard(t.issuer, { ...DEFAULT_CARD, balance: 0 }),
    });
    t.slots.remove('payee');
    t.slots.insert('payee', other.os);
    await new Promise((resolve) => setImmediate(resolve));
    const outcome = await t.engine.transfer({ amount: 50 });
    expect(outcome).toMatchObject({ status: 'completed' });
    if (outcome.status !== 'completed') throw new Error(outcome.status);
    const [started] = t.journal.entriesForFlow(outcome.flowId);
    expect(started!.payload).toMatchObject({ payeeId: other.store.read().holderId });
    expect([t.cards.payee.store.read().balance, other.store.read().balance]).toEqual([100, 50]);
  });

  it('a failure that resets the cards drops every session: the next operation selects and reads again', async () => {
    const t = makeTerminal({ payer: { balance: 10_000 }, payee: { balance: 0 }, waitingTimeMs: 50 });
    await t.engine.readCard('payer');
    await t.engine.readCard('payee');
    t.slots.stall('payee', { when: (apdu) => apdu[1] === 0x32 }); // INITIATE CREDIT never answered
    const log = apduLog(t);
    const outcome = await t.engine.transfer({ amount: 100 });
    expect(outcome).toMatchObject({ status: 'interrupted', error: { code: 'E_TRANSPORT_TIMEOUT' } });
    // The timeout reset both cards; the recovery that follows opens new sessions from SELECT.
    const sent = log.take();
    const after = sent.slice(sent.indexOf('payer: INITIATE DEBIT') + 1);
    expect(after.find((c) => c.startsWith('payer:'))).toBe('payer: SELECT');
    expect(after.find((c) => c.startsWith('payee:') && c !== 'payee: INITIATE CREDIT')).toBe('payee: SELECT');
    t.slots.clearFaults('payee');
    expect(await t.engine.transfer({ amount: 100 })).toMatchObject({ status: 'completed' });
  });

  /**
   * A hostile reader (or a fault no event reported) lets another card answer on the session of the
   * first: the slot sees no removal. Delegates to `card` until told otherwise.
   */
  function swappable(card: VirtualCard) {
    let current = card;
    const proxy: VirtualCard = {
      get atr() {
        return current.atr;
      },
      powerUp: () => current.powerUp(),
      powerDown: () => current.powerDown(),
      reset: () => current.reset(),
      transmit: (apdu) => current.transmit(apdu),
    };
    return {
      proxy,
      swapTo(next: SimulatedCard) {
        next.os.powerUp();
        next.os.transmit(new Uint8Array([0x00, 0xa4, 0x04, 0x00, 0x06, 0xf0, 0x53, 0x54, 0x4c, 0x4d, 0x02]));
        current = next.os;
      },
    };
  }

  function withSwappablePayee() {
    const t = makeTerminal({ payer: { balance: 10_000 }, payee: { balance: 0 } });
    const payee = swappable(t.cards.payee.os);
    t.slots.remove('payee');
    t.slots.insert('payee', payee.proxy);
    const other = createSettlementCard({
      backend: new MemoryBackend(),
      initial: personalizeCard(t.issuer, { ...DEFAULT_CARD, balance: 0 }),
    });
    return { t, payee, other };
  }

  it('another card answering on the same session is caught when its info is read again: refused, cards reset', async () => {
    const { t, payee, other } = withSwappablePayee();
    await t.engine.transfer({ amount: 100 }); // the payee's info is now to be read again
    payee.swapTo(other);
    const before = [t.cards.payer.store.read(), t.cards.payee.store.read(), other.store.read()];
    const outcome = await t.engine.transfer({ amount: 100 });
    expect(outcome).toMatchObject({ status: 'refused', error: { code: 'E_CARD_STATE' } });
    expect([t.cards.payer.store.read(), t.cards.payee.store.read(), other.store.read()]).toEqual(before);
    // The sessions were dropped: the next operation starts from SELECT.
    const log = apduLog(t);
    await t.engine.readCard('payer');
    expect(log.take().slice(0, 2)).toEqual(OPEN('payer'));
  });

  it('a swap while the info is still current is caught by the value commands: no value moves', async () => {
    const { t, payee, other } = withSwappablePayee();
    await t.engine.readCard('payer');
    await t.engine.readCard('payee');
    payee.swapTo(other); // the terminal still believes the first payee is there
    const outcome = await t.engine.transfer({ amount: 100 });
    // The debit proof binds the first payee's holder ID: the other card refuses it (6982), stores
    // nothing, and the payer's open debit is aborted.
    expect(outcome).toMatchObject({ status: 'rolled-back' });
    expect([t.cards.payer.store.read().balance, t.cards.payee.store.read().balance]).toEqual([10_000, 0]);
    expect(other.store.read().balance).toBe(0);
    expect(other.store.read().creditLog).toEqual([]);
  });
});

describe('what the card changes is never served stale', () => {
  it('the owner level after a logout: the balance masked again, not the figure shown before', async () => {
    const t = makeTerminal({ payer: { balance: 10_000 }, payee: { balance: 0 } });
    expect((await t.engine.login('payer', TEST_PIN)).ownerLoggedIn).toBe(true);
    expect((await t.engine.readCard('payer')).balance).toBe(10_000);
    await t.engine.logout('payer');
    // SESSION END ended the owner level: the balance is masked again, read from the card's new state.
    expect((await t.engine.readCard('payer')).balance).toBeUndefined();
  });
});
