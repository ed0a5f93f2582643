// ReaderSlots over a real pcscd (a private one, see test/support/pcscd-harness.ts) with two vpcd
// readers, "Virtual PCD A 00 00" and "Virtual PCD A 00 01", mapped to payer and payee by pattern.
// Cards go in and out through VpcdConnector. No timing assertions: every wait is on an event or a
// status, bounded.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SIMULATED_CARD_ATR } from '../../card-sim/settlement-card.js';
import {
  encodeVpcdFrame,
  VPCD_CTRL,
  VpcdConnector,
  VpcdFrameDecoder,
} from '../../card-sim/transport/vpcd-connector.js';
import { PcscClient } from '../../electron/services/pcsc/pcsc-client.js';
import { createPcscSlots, type PcscSlots } from '../../electron/services/slots/pcsc-slots.js';
import type { SlotEvent, SlotName, SlotStatus } from '../../electron/services/slots/reader-slots.js';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { TerminalError } from '../../protocol/errors.js';
import { SettlementClient } from '../../protocol/settlement/settlement-client.js';
import type { VirtualCard } from '../../protocol/virtual-card.js';
import { makePair, transfer } from '../support/card-fixtures.js';
import { type PcscdHarness, startPcscd } from '../support/pcscd-harness.js';

const WAITING_TIME_MS = 2_000;
const WAIT_MS = 10_000;
const SELECT = fromHex('00A4040000');
const MAPPING = { payer: '/^Virtual PCD .* 00 00$/', payee: '/^Virtual PCD .* 00 01$/' };

/** SELECT answers 9000, 00 EE echoes its data, anything else 6D00. */
class EchoCard implements VirtualCard {
  readonly atr = fromHex('3B 80 80 01 01'); // T=1
  apdus: Uint8Array[] = [];
  powerUp(): void {}
  powerDown(): void {}
  reset(): void {}
  transmit(apdu: Uint8Array): Uint8Array {
    this.apdus.push(apdu);
    if (apdu[1] === 0xa4) return fromHex('9000');
    if (apdu[1] === 0xee) return Uint8Array.from([...apdu.subarray(5, 5 + (apdu[4] ?? 0)), 0x90, 0x00]);
    return fromHex('6D00');
  }
}

/** A vpcd client that answers power and ATR requests but never an APDU: a stalled card. */
async function muteCard(port: number, atr: Uint8Array) {
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
  socket.on('error', () => {});
  const decoder = new VpcdFrameDecoder();
  const apdus: Uint8Array[] = [];
  socket.on('data', (chunk) => {
    for (const frame of decoder.push(chunk)) {
      if (frame.length === 1 && frame[0] === VPCD_CTRL.GET_ATR) socket.write(encodeVpcdFrame(atr));
      else if (frame.length > 1) apdus.push(frame);
    }
  });
  return {
    apdus,
    close: () =>
      new Promise<void>((resolve) => {
        if (socket.destroyed) return resolve();
        socket.once('close', () => resolve());
        socket.destroy();
      }),
  };
}

/** Records slot events; waits for one matching a predicate, from some position on. */
class EventLog {
  readonly events: SlotEvent[] = [];
  private waiters = new Set<() => void>();

  readonly record = (event: SlotEvent) => {
    this.events.push(event);
    for (const wake of [...this.waiters]) wake();
  };

  mark(): number {
    return this.events.length;
  }

  /** Index of the first event at or after `from` that matches; waits up to WAIT_MS for it. */
  waitFor(match: (e: SlotEvent) => boolean, from = 0): Promise<number> {
    const find = () => this.events.findIndex((e, i) => i >= from && match(e));
    return new Promise((resolve, reject) => {
      const check = () => {
        const index = find();
        if (index < 0) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(index);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(`no matching slot event after #${from}; got ${JSON.stringify(this.events.slice(from))}`),
        );
      }, WAIT_MS);
      this.waiters.add(check);
      check();
    });
  }
}

const is =
  (type: SlotEvent['type'], slot?: SlotName) =>
  (e: SlotEvent): boolean =>
    e.type === type && (slot === undefined || ('slot' in e && e.slot === slot));

async function waitForStatus(slots: PcscSlots, check: (s: SlotStatus[]) => boolean): Promise<SlotStatus[]> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const status = slots.status();
    if (check(status)) return status;
    if (Date.now() > deadline) throw new Error(`slot status never matched: ${JSON.stringify(status)}`);
    await sleep(20);
  }
}

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

describe('PC/SC reader slots', () => {
  let harness: PcscdHarness;
  let slots: PcscSlots;
  let names: string[];
  let log: EventLog;
  const connectors: VpcdConnector[] = [];
  const mutes: { close(): Promise<void> }[] = [];

  const insert = async (reader: number, card: VirtualCard = new EchoCard()) => {
    const connector = new VpcdConnector({ port: harness.ports[reader]!, card });
    connectors.push(connector);
    await connector.connect();
    return connector;
  };

  beforeAll(async () => {
    harness = await startPcscd({ readers: 2 });
    names = await harness.readerNames();
    slots = await createPcscSlots({
      mapping: MAPPING,
      waitingTimeMs: WAITING_TIME_MS,
      socketPath: harness.socketPath,
      reconnect: { initialDelayMs: 50, maxDelayMs: 400 },
    });
    log = new EventLog();
    slots.on(log.record);
  });

  afterEach(async () => {
    for (const m of mutes.splice(0)) await m.close();
    for (const c of connectors.splice(0)) await c.close();
    await waitForStatus(slots, (s) => s.every((x) => !x.cardPresent));
  });

  afterAll(async () => {
    await slots?.close();
    await harness?.stop();
  });

  it('binds the two vpcd readers to payer and payee by pattern', async () => {
    expect(names).toEqual(['Virtual PCD A 00 00', 'Virtual PCD A 00 01']);
    expect(slots.serviceAvailable).toBe(true);
    expect(slots.status()).toEqual([
      { slot: 'payer', reader: names[0], readerPresent: true, cardPresent: false },
      { slot: 'payee', reader: names[1], readerPresent: true, cardPresent: false },
    ]);
  });

  it('reports a card inserted and removed, with its ATR, and transmits to it', async () => {
    const from = log.mark();
    const card = new EchoCard();
    const connector = await insert(1, card);
    const at = await log.waitFor(is('card-inserted'), from);
    expect(log.events[at]).toEqual({
      type: 'card-inserted',
      slot: 'payee',
      reader: names[1],
      atr: '3B80800101',
    });
    expect(slots.status()[1]).toEqual({
      slot: 'payee',
      reader: names[1],
      readerPresent: true,
      cardPresent: true,
      atr: '3B80800101',
    });
    expect(slots.status()[0]?.cardPresent).toBe(false);

    const channel = await slots.connect('payee');
    expect(toHex(channel.atr)).toBe('3B80800101');
    expect(await channel.transmit(SELECT)).toEqual(fromHex('9000'));
    expect(await channel.transmit(fromHex('00EE000002 CAFE'))).toEqual(fromHex('CAFE 9000'));
    expect(card.apdus).toHaveLength(2);

    const removedFrom = log.mark();
    await connector.remove();
    await log.waitFor(is('card-removed', 'payee'), removedFrom);
    expect(slots.status()[1]).toEqual({
      slot: 'payee',
      reader: names[1],
      readerPresent: true,
      cardPresent: false,
    });
    await expectTerminalError(channel.transmit(SELECT), 'E_CARD_ABSENT');
    await channel.close();
    expect(log.events.slice(from).map((e) => `${e.type}:${'slot' in e ? e.slot : ''}`)).toEqual([
      'card-inserted:payee',
      'card-removed:payee',
    ]);
  });

  it('refuses to connect to an empty slot with E_CARD_ABSENT', async () => {
    const error = await expectTerminalError(slots.connect('payer'), 'E_CARD_ABSENT');
    expect(error.details).toMatchObject({ slot: 'payer', reader: names[0] });
  });

  it('runs a value transfer between settlement cards in the two readers', async () => {
    const { a, b } = await makePair();
    const from = log.mark();
    await insert(0, a.sim.os);
    await insert(1, b.sim.os);
    await log.waitFor(is('card-inserted', 'payer'), from);
    await log.waitFor(is('card-inserted', 'payee'), from);
    expect(slots.status().map((s) => s.atr)).toEqual([toHex(SIMULATED_CARD_ATR), toHex(SIMULATED_CARD_ATR)]);

    const payer = await slots.connect('payer');
    const payee = await slots.connect('payee');
    try {
      a.client = new SettlementClient(payer);
      b.client = new SettlementClient(payee);
      await a.client.select();
      await b.client.select();
      await transfer(a, b, 2_500);
      expect(a.state().balance).toBe(7_500);
      expect(b.state().balance).toBe(12_500);
    } finally {
      await payer.close();
      await payee.close();
    }
  });

  it('times out a stalled card at the waiting time; the reader recovers once it is pulled', async () => {
    const from = log.mark();
    const mute = await muteCard(harness.ports[0]!, fromHex('3B 80 80 01 01'));
    mutes.push(mute);
    await log.waitFor(is('card-inserted', 'payer'), from);
    const channel = await slots.connect('payer');
    const error = await expectTerminalError(channel.transmit(SELECT), 'E_TRANSPORT_TIMEOUT');
    expect(error.details).toMatchObject({ reader: names[0], timeoutMs: WAITING_TIME_MS });
    expect(mute.apdus).toEqual([SELECT]);
    const again = await expectTerminalError(channel.transmit(SELECT), 'E_TRANSPORT');
    expect(again.details.cause).toBe('E_TRANSPORT_TIMEOUT');
    await channel.close();

    // Pulling the stalled card releases pcscd's reader and the libuv thread blocked in SCardTransmit.
    const pulled = log.mark();
    await mute.close();
    await log.waitFor(is('card-removed', 'payer'), pulled);
    const inserted = log.mark();
    await insert(0);
    await log.waitFor(is('card-inserted', 'payer'), inserted);
    const fresh = await slots.connect('payer');
    expect(await fresh.transmit(SELECT)).toEqual(fromHex('9000'));
    await fresh.close();
  });

  it('maps readers by exact name, and binds a reader both patterns match to neither slot', async () => {
    const swapped = await createPcscSlots({
      mapping: { payer: names[1]!, payee: names[0]! },
      waitingTimeMs: WAITING_TIME_MS,
      client: new PcscClient({ socketPath: harness.socketPath }),
    });
    try {
      expect(swapped.status().map((s) => [s.slot, s.reader])).toEqual([
        ['payer', names[1]],
        ['payee', names[0]],
      ]);
    } finally {
      await swapped.close();
    }

    const ambiguous = await createPcscSlots({
      mapping: { payer: '/Virtual PCD/', payee: '/ 00 01$/' },
      waitingTimeMs: WAITING_TIME_MS,
      socketPath: harness.socketPath,
    });
    try {
      expect(ambiguous.status()).toEqual([
        { slot: 'payer', reader: names[0], readerPresent: true, cardPresent: false },
        { slot: 'payee', readerPresent: false, cardPresent: false },
      ]);
      const error = await expectTerminalError(ambiguous.connect('payee'), 'E_READER_UNAVAILABLE');
      expect(error.details).toMatchObject({ slot: 'payee', selector: '/ 00 01$/' });
    } finally {
      await ambiguous.close();
    }
  });

  it('refuses an invalid mapping', async () => {
    await expectTerminalError(
      createPcscSlots({ mapping: { payer: 'same', payee: 'same' }, waitingTimeMs: WAITING_TIME_MS }),
      'E_INPUT_INVALID',
    );
  });

  // Last: it restarts the daemon under the shared slots.
  it('reports pcscd going away and coming back on the same socket; the card works again', async () => {
    const card = new EchoCard();
    const inserted = log.mark();
    const connector = await insert(0, card);
    await log.waitFor(is('card-inserted', 'payer'), inserted);
    const channel = await slots.connect('payer');
    expect(await channel.transmit(SELECT)).toEqual(fromHex('9000'));

    const from = log.mark();
    let lostAt = -1;
    const oldPid = harness.pid;
    await harness.restart({
      whileStopped: async () => {
        lostAt = await log.waitFor(is('service-lost'), from);
        expect(slots.serviceAvailable).toBe(false);
        expect(slots.status()).toEqual([
          { slot: 'payer', readerPresent: false, cardPresent: false },
          { slot: 'payee', readerPresent: false, cardPresent: false },
        ]);
        await expectTerminalError(slots.connect('payer'), 'E_READER_UNAVAILABLE');
        await sleep(300); // a few reconnection attempts fail meanwhile
        expect(log.events.slice(lostAt).some(is('service-restored'))).toBe(false);
      },
    });
    expect(harness.pid).not.toBe(oldPid);

    const restoredAt = await log.waitFor(is('service-restored'), from);
    expect(restoredAt).toBeGreaterThan(lostAt);
    // While it was gone both slots went empty, each reported once (a reader pcscd dropped before its
    // PnP monitor failed shows up just before service-lost, the rest just after).
    const outage = log.events.slice(from, restoredAt);
    expect(outage).toHaveLength(4);
    expect(outage).toEqual(
      expect.arrayContaining([
        { type: 'service-lost', detail: expect.any(String) },
        { type: 'card-removed', slot: 'payer', reader: names[0] },
        { type: 'reader-detached', slot: 'payer', reader: names[0] },
        { type: 'reader-detached', slot: 'payee', reader: names[1] },
      ]),
    );
    await log.waitFor(is('reader-attached', 'payer'), restoredAt);
    await log.waitFor(is('reader-attached', 'payee'), restoredAt);
    expect(slots.serviceAvailable).toBe(true);
    expect(log.events.slice(from).filter(is('service-lost'))).toHaveLength(1);
    expect(log.events.slice(from).filter(is('service-restored'))).toHaveLength(1);

    // The session from before is dead; the card, dropped by the old vpcd, goes in again and works.
    await expect(channel.transmit(SELECT)).rejects.toBeInstanceOf(TerminalError);
    await channel.close();
    const reinserted = log.mark();
    await connector.insert();
    await log.waitFor(is('card-inserted', 'payer'), reinserted);
    const again = await slots.connect('payer');
    expect(await again.transmit(SELECT)).toEqual(fromHex('9000'));
    await again.close();
    expect(card.apdus).toHaveLength(2);
  });
});
