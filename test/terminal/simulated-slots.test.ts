import { afterEach, describe, expect, it } from 'vitest';
import { SIMULATED_CARD_ATR } from '../../card-sim/settlement-card.js';
import type { SlotEvent } from '../../electron/services/slots/reader-slots.js';
import { createSimulatedSlots, type SimulatedSlots } from '../../electron/services/slots/simulated-slots.js';
import {
  compileSlotMapping,
  matchReader,
  parseSlotMapping,
  slotMappingSchema,
} from '../../electron/services/slots/slot-mapping.js';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { TerminalError } from '../../protocol/errors.js';
import { INS, RECORD_STATUS } from '../../protocol/settlement/commands.js';
import { SettlementClient } from '../../protocol/settlement/settlement-client.js';
import type { VirtualCard } from '../../protocol/virtual-card.js';
import { makePair, NOW, TEST_CURRENCY, transfer } from '../support/card-fixtures.js';

/** SELECT answers 9000, 00 EE echoes its data, INS 0xDD loses power (empty answer); counts power events. */
class TestCard implements VirtualCard {
  readonly atr = fromHex('3B 80 80 01 01');
  events: string[] = [];
  apdus: Uint8Array[] = [];
  powerUp(): void {
    this.events.push('up');
  }
  powerDown(): void {
    this.events.push('down');
  }
  reset(): void {
    this.events.push('reset');
  }
  transmit(apdu: Uint8Array): Uint8Array {
    this.apdus.push(apdu);
    switch (apdu[1]) {
      case 0xa4:
        return fromHex('9000');
      case 0xee:
        return Uint8Array.from([...apdu.subarray(5, 5 + (apdu[4] ?? 0)), 0x90, 0x00]);
      case 0xdd:
        return new Uint8Array(0);
      default:
        return fromHex('6D00');
    }
  }
}

const SELECT = fromHex('00A4040000');

async function expectTerminalError(
  promise: Promise<unknown>,
  code: TerminalError['code'],
): Promise<TerminalError> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(TerminalError);
    expect((e as TerminalError).code).toBe(code);
    return e as TerminalError;
  }
  throw new Error(`expected a TerminalError ${code}, got a result`);
}

describe('slot mapping', () => {
  const mapping = { payer: '/ 00 00$/', payee: 'ACME Reader 1' };

  it('matches exact names and /patterns/', () => {
    expect(matchReader(mapping, 'Virtual PCD A 00 00')).toBe('payer');
    expect(matchReader(mapping, 'ACME Reader 1')).toBe('payee');
    expect(matchReader(mapping, 'ACME Reader 10')).toBeUndefined(); // exact means exact
    expect(matchReader(mapping, 'Virtual PCD A 00 01')).toBeUndefined();
    expect(matchReader({ payer: '/^acme/i', payee: '/^Other/' }, 'ACME Reader 1')).toBe('payer');
  });

  it('binds a reader both patterns match to neither, and lets an exact name win over a pattern', () => {
    const both = { payer: '/Virtual PCD/', payee: '/ 00 01$/' };
    expect(matchReader(both, 'Virtual PCD A 00 00')).toBe('payer');
    expect(matchReader(both, 'Virtual PCD A 00 01')).toBeUndefined();
    expect(matchReader({ payer: '/Virtual PCD/', payee: 'Virtual PCD A 00 01' }, 'Virtual PCD A 00 01')).toBe(
      'payee',
    );
  });

  it('refuses the same selector for both slots, invalid patterns and unknown keys', () => {
    expect(slotMappingSchema.safeParse({ payer: 'R', payee: 'R' }).success).toBe(false);
    expect(slotMappingSchema.safeParse({ payer: '/x/', payee: '/x/' }).success).toBe(false);
    expect(slotMappingSchema.safeParse({ payer: '/(/', payee: 'R' }).success).toBe(false);
    expect(slotMappingSchema.safeParse({ payer: '/x/g', payee: 'R' }).success).toBe(false);
    expect(slotMappingSchema.safeParse({ payer: '', payee: 'R' }).success).toBe(false);
    expect(slotMappingSchema.safeParse({ payer: 'A', payee: 'B', extra: 'C' }).success).toBe(false);
    expect(slotMappingSchema.safeParse({ payer: 'A' }).success).toBe(false);
    expect(parseSlotMapping({ payer: 'A', payee: '/B/i' })).toEqual({ payer: 'A', payee: '/B/i' });

    const error = (() => {
      try {
        parseSlotMapping({ payer: 'R', payee: 'R' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(TerminalError);
    expect((error as TerminalError).code).toBe('E_INPUT_INVALID');
    expect(() => matchReader({ payer: '/(/', payee: 'R' }, 'R')).toThrow(TerminalError);
    expect(() => compileSlotMapping({ payer: 'same', payee: 'same' })).toThrow(TerminalError);
  });
});

describe('simulated slots', () => {
  let slots: SimulatedSlots;
  let events: SlotEvent[];

  const make = (waitingTimeMs = 200) => {
    slots = createSimulatedSlots({ waitingTimeMs });
    events = [];
    slots.on((e) => events.push(e));
    return slots;
  };

  afterEach(async () => {
    await slots?.close();
  });

  it('shows both readers, and cards as they are inserted and removed', () => {
    make();
    expect(slots.status()).toEqual([
      { slot: 'payer', reader: 'Simulated reader (payer)', readerPresent: true, cardPresent: false },
      { slot: 'payee', reader: 'Simulated reader (payee)', readerPresent: true, cardPresent: false },
    ]);
    const card = new TestCard();
    slots.insert('payee', card);
    expect(slots.status()[1]).toEqual({
      slot: 'payee',
      reader: 'Simulated reader (payee)',
      readerPresent: true,
      cardPresent: true,
      atr: '3B80800101',
    });
    expect(slots.card('payee')).toBe(card);
    expect(() => slots.insert('payee', new TestCard())).toThrow(TerminalError);
    slots.remove('payee');
    slots.remove('payee'); // nothing left to pull: no event
    expect(slots.status()[1]?.cardPresent).toBe(false);
    expect(events).toEqual([
      { type: 'card-inserted', slot: 'payee', reader: 'Simulated reader (payee)', atr: '3B80800101' },
      { type: 'card-removed', slot: 'payee', reader: 'Simulated reader (payee)' },
    ]);
  });

  it('stops reporting to a listener once it unsubscribes', () => {
    make();
    const seen: SlotEvent[] = [];
    const off = slots.on((e) => seen.push(e));
    slots.insert('payer', new TestCard());
    off();
    slots.remove('payer');
    expect(seen.map((e) => e.type)).toEqual(['card-inserted']);
  });

  it('connects, transmits and closes: the card powers up and down', async () => {
    make();
    const card = new TestCard();
    slots.insert('payer', card);
    const channel = await slots.connect('payer');
    expect(channel.atr).toEqual(card.atr);
    expect(await channel.transmit(SELECT)).toEqual(fromHex('9000'));
    expect(await channel.transmit(fromHex('00EE000003 010203'))).toEqual(fromHex('010203 9000'));
    await channel.close();
    await channel.close(); // idempotent
    expect(card.events).toEqual(['up', 'down']);
    await expectTerminalError(channel.transmit(SELECT), 'E_TRANSPORT');
  });

  it('refuses to connect to an empty slot, or twice to one slot', async () => {
    make();
    const absent = await expectTerminalError(slots.connect('payee'), 'E_CARD_ABSENT');
    expect(absent.details).toMatchObject({ slot: 'payee' });
    slots.insert('payee', new TestCard());
    const channel = await slots.connect('payee');
    await expectTerminalError(slots.connect('payee'), 'E_TRANSPORT');
    await channel.close();
    const again = await slots.connect('payee');
    await again.close();
    await expectTerminalError(slots.connect('nobody' as 'payer'), 'E_INPUT_INVALID');
  });

  it('fails the channel with E_CARD_ABSENT when the card is pulled mid-session', async () => {
    make();
    const card = new TestCard();
    slots.insert('payer', card);
    const channel = await slots.connect('payer');
    expect(await channel.transmit(SELECT)).toEqual(fromHex('9000'));
    slots.remove('payer');
    await expectTerminalError(channel.transmit(SELECT), 'E_CARD_ABSENT');
    await expectTerminalError(channel.transmit(SELECT), 'E_CARD_ABSENT');
    expect(card.apdus).toHaveLength(1);

    // The card goes into the other slot; closing the old session must not touch it there.
    slots.insert('payee', card);
    const other = await slots.connect('payee');
    await channel.close();
    expect(card.events).toEqual(['up', 'down', 'up']);
    expect(await other.transmit(SELECT)).toEqual(fromHex('9000'));
    await other.close();
  });

  it('rejects a transmit in flight with E_CARD_ABSENT when the card is pulled while it waits', async () => {
    make(10_000);
    const card = new TestCard();
    slots.insert('payer', card);
    slots.stall('payer');
    const channel = await slots.connect('payer');
    const pending = channel.transmit(SELECT);
    slots.remove('payer');
    await expectTerminalError(pending, 'E_CARD_ABSENT');
    expect(card.apdus).toHaveLength(0);
    await channel.close();
  });

  it('turns an empty answer (power lost) into E_TRANSPORT; the next session powers the card up', async () => {
    make();
    const card = new TestCard();
    slots.insert('payer', card);
    const channel = await slots.connect('payer');
    await expectTerminalError(channel.transmit(fromHex('00DD0000')), 'E_TRANSPORT');
    const after = await expectTerminalError(channel.transmit(SELECT), 'E_TRANSPORT');
    expect(after.details.cause).toBe('E_TRANSPORT');
    expect(slots.status()[0]?.cardPresent).toBe(true);
    await channel.close();
    const again = await slots.connect('payer');
    expect(await again.transmit(SELECT)).toEqual(fromHex('9000'));
    await again.close();
  });

  it('times out a stalled card at the waiting time without calling it, then breaks the channel', async () => {
    make(100);
    const card = new TestCard();
    slots.insert('payer', card);
    const channel = await slots.connect('payer');
    expect(await channel.transmit(SELECT)).toEqual(fromHex('9000'));
    slots.stall('payer');
    const timeout = await expectTerminalError(channel.transmit(SELECT), 'E_TRANSPORT_TIMEOUT');
    expect(timeout.details).toMatchObject({ slot: 'payer', timeoutMs: 100 }); // the waiting time
    expect(card.apdus).toHaveLength(1); // the stalled command never reached the card
    const after = await expectTerminalError(channel.transmit(SELECT), 'E_TRANSPORT');
    expect(after.details.cause).toBe('E_TRANSPORT_TIMEOUT');
    await channel.close();

    slots.clearFaults('payer');
    const fresh = await slots.connect('payer');
    expect(await fresh.transmit(SELECT)).toEqual(fromHex('9000'));
    await fresh.close();
  });

  it('serves a slow card within the waiting time, and never calls one slower than it', async () => {
    make(10_000);
    const card = new TestCard();
    slots.insert('payer', card);
    slots.setLatency('payer', 20);
    const channel = await slots.connect('payer');
    expect(await channel.transmit(SELECT)).toEqual(fromHex('9000'));
    expect(await channel.transmit(SELECT, { timeoutMs: 10_000 })).toEqual(fromHex('9000'));

    slots.setLatency('payer', 50);
    await expectTerminalError(channel.transmit(SELECT, { timeoutMs: 50 }), 'E_TRANSPORT_TIMEOUT');
    expect(card.apdus).toHaveLength(2);
    await channel.close();
    expect(() => slots.setLatency('payer', -1)).toThrow(TerminalError);
  });

  it('queues transmits one at a time, in order', async () => {
    make();
    const card = new TestCard();
    slots.insert('payer', card);
    slots.setLatency('payer', 5);
    const channel = await slots.connect('payer');
    const answers = await Promise.all(
      [1, 2, 3].map((n) => channel.transmit(Uint8Array.of(0x00, 0xee, 0, 0, 1, n))),
    );
    expect(answers).toEqual([fromHex('01 9000'), fromHex('02 9000'), fromHex('03 9000')]);
    expect(card.apdus.map((a) => a[5])).toEqual([1, 2, 3]);
    await channel.close();
  });

  it('refuses a transmit that is not a command APDU', async () => {
    make();
    slots.insert('payer', new TestCard());
    const channel = await slots.connect('payer');
    await expectTerminalError(channel.transmit(fromHex('00A4')), 'E_INPUT_INVALID');
    expect(await channel.transmit(SELECT)).toEqual(fromHex('9000')); // still usable
    await channel.close();
  });

  it('closes open channels on close() and refuses new sessions', async () => {
    make();
    const card = new TestCard();
    slots.insert('payer', card);
    const channel = await slots.connect('payer');
    await slots.close();
    await expectTerminalError(channel.transmit(SELECT), 'E_TRANSPORT');
    await expectTerminalError(slots.connect('payer'), 'E_TRANSPORT');
    expect(card.events).toEqual(['up', 'down']);
  });

  describe('with settlement cards', () => {
    it('runs a value transfer between the two slots', async () => {
      const { a, b } = await makePair();
      make(1_000);
      slots.insert('payer', a.sim.os);
      slots.insert('payee', b.sim.os);
      expect(slots.status().map((s) => s.atr)).toEqual([
        toHex(SIMULATED_CARD_ATR),
        toHex(SIMULATED_CARD_ATR),
      ]);
      const [payer, payee] = [await slots.connect('payer'), await slots.connect('payee')];
      a.client = new SettlementClient(payer);
      b.client = new SettlementClient(payee);
      await a.client.select();
      await b.client.select();
      await transfer(a, b, 1_500);
      expect(a.state().balance).toBe(8_500);
      expect(b.state().balance).toBe(11_500);
      await payer.close();
      await payee.close();
    });

    it('loses the DEBIT answer after the card committed (stallAfterCard)', async () => {
      const { a, b } = await makePair();
      make(100);
      slots.insert('payer', a.sim.os);
      slots.insert('payee', b.sim.os);
      slots.stallAfterCard('payer', { when: (apdu) => apdu[1] === INS.DEBIT });
      const [payer, payee] = [await slots.connect('payer'), await slots.connect('payee')];
      a.client = new SettlementClient(payer);
      b.client = new SettlementClient(payee);
      await a.client.select();
      await b.client.select();
      const request = { currency: TEST_CURRENCY, amount: 700, date: NOW };
      const debit = await a.client.initiateDebit({ ...request, counterpartId: b.holderId });
      const { txRandom } = debit;
      const { rxRandom, challenge } = await b.client.initiateCredit(
        { ...request, counterpartId: a.holderId },
        debit,
      );
      await expectTerminalError(a.client.debit(txRandom, rxRandom, challenge), 'E_TRANSPORT_TIMEOUT');
      // The card acted on the command: its debit record is there, committed.
      expect(a.state().debitLog.at(-1)?.status).toBe('debited');
      await payer.close();

      // A new session finds the record, as the terminal's recovery would.
      slots.clearFaults('payer');
      const again = await slots.connect('payer');
      a.client = new SettlementClient(again);
      await a.client.select();
      expect((await a.client.transactionStatus(txRandom)).status).toBe(RECORD_STATUS.DEBIT_DEBITED);
      await again.close();
      await payee.close();
    });
  });
});
