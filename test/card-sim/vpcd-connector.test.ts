import { execFile } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InProcessChannel } from '../../card-sim/transport/in-process-channel.js';
import {
  encodeVpcdFrame,
  VPCD_CTRL,
  VpcdConnector,
  VpcdFrameDecoder,
} from '../../card-sim/transport/vpcd-connector.js';
import { PcscClient, type PcscEvent } from '../../electron/services/pcsc/pcsc-client.js';
import {
  encodeCommandApdu,
  encodeResponseApdu,
  parseCommandApdu,
  parseResponseApdu,
} from '../../protocol/apdu.js';
import { ascii, fromHex, toHex } from '../../protocol/bytes.js';
import { isTerminalError, TerminalError } from '../../protocol/errors.js';
import { CardStatusError, SW } from '../../protocol/status-words.js';
import type { VirtualCard } from '../../protocol/virtual-card.js';
import { type PcscdHarness, startPcscd } from '../support/pcscd-harness.js';

// --- a tiny test card -------------------------------------------------------------------------

const INS = { SELECT: 0xa4, GET_DATA: 0xca, ECHO: 0xee } as const;

/** T=1 ATR with historical bytes "STLMTEST": 3B 88 80 01 <8 bytes> TCK. */
function testAtr(): Uint8Array {
  const body = [0x88, 0x80, 0x01, ...ascii('STLMTEST')];
  const tck = body.reduce((x, b) => x ^ b, 0);
  return Uint8Array.from([0x3b, ...body, tck]);
}

/**
 * SELECT answers 9000; GET DATA answers Ne bytes 00 01 02 ...; ECHO returns its command data;
 * any other INS answers 6D00. Counts power events.
 */
class EchoCard implements VirtualCard {
  readonly atr = testAtr();
  powered = false;
  events: string[] = [];
  apdus: Uint8Array[] = [];

  powerUp(): void {
    this.powered = true;
    this.events.push('up');
  }
  powerDown(): void {
    this.powered = false;
    this.events.push('down');
  }
  reset(): void {
    this.powered = true;
    this.events.push('reset');
  }
  transmit(apdu: Uint8Array): Uint8Array {
    this.apdus.push(apdu);
    try {
      const cmd = parseCommandApdu(apdu);
      switch (cmd.ins) {
        case INS.SELECT:
          return encodeResponseApdu(new Uint8Array(0), SW.OK);
        case INS.GET_DATA: {
          const n = Math.min(cmd.ne, 65533); // a vpcd message carries at most 65535 bytes incl. SW
          return encodeResponseApdu(
            Uint8Array.from({ length: n }, (_, i) => i & 0xff),
            SW.OK,
          );
        }
        case INS.ECHO:
          return encodeResponseApdu(cmd.data, SW.OK);
        default:
          return encodeResponseApdu(new Uint8Array(0), SW.INS_NOT_SUPPORTED);
      }
    } catch (e) {
      return encodeResponseApdu(new Uint8Array(0), e instanceof CardStatusError ? e.sw : SW.UNKNOWN);
    }
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

// --- framing, without pcscd ---------------------------------------------------------------------

describe('VpcdFrameDecoder', () => {
  it('reassembles frames split anywhere, including inside the length prefix', () => {
    const frames = [
      Uint8Array.of(VPCD_CTRL.GET_ATR),
      fromHex('00A4040002 3F00'),
      new Uint8Array(0),
      new Uint8Array(1000).fill(7),
    ];
    const stream = Buffer.concat(frames.map((f) => encodeVpcdFrame(f)));
    for (const step of [1, 2, 3, 7, 500, stream.length]) {
      const decoder = new VpcdFrameDecoder();
      const out: Uint8Array[] = [];
      for (let i = 0; i < stream.length; i += step) out.push(...decoder.push(stream.subarray(i, i + step)));
      expect(out).toEqual(frames);
      expect(decoder.bufferedBytes).toBe(0);
    }
  });

  it('keeps an incomplete tail until the rest arrives', () => {
    const decoder = new VpcdFrameDecoder();
    const frame = encodeVpcdFrame(fromHex('00CA000010'));
    expect(decoder.push(Buffer.concat([encodeVpcdFrame(Uint8Array.of(1)), frame.subarray(0, 1)]))).toEqual([
      Uint8Array.of(1),
    ]);
    expect(decoder.bufferedBytes).toBe(1);
    expect(decoder.push(frame.subarray(1, 4))).toEqual([]);
    expect(decoder.push(frame.subarray(4))).toEqual([fromHex('00CA000010')]);
  });

  it('refuses payloads that do not fit a 16-bit length', () => {
    expect(() => encodeVpcdFrame(new Uint8Array(0x10000))).toThrow(TerminalError);
  });
});

/** A stand-in for vpcd: accepts one connection and lets the test write raw bytes and read frames. */
async function fakeVpcd(port = 0) {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const decoder = new VpcdFrameDecoder();
  const received: Uint8Array[] = [];
  let notify: (() => void) | undefined;
  void accepted.then((socket) =>
    socket.on('data', (chunk) => {
      received.push(...decoder.push(chunk));
      notify?.();
    }),
  );
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted,
    async next(count: number): Promise<Uint8Array[]> {
      while (received.length < count) await new Promise<void>((resolve) => (notify = resolve));
      return received.splice(0, count);
    },
    async close() {
      (await Promise.race([accepted, sleep(0).then(() => undefined)]))?.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('VpcdConnector over a fake vpcd (no pcscd)', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('answers control messages and APDUs however TCP splits or merges them', async () => {
    const vpcd = await fakeVpcd();
    cleanups.push(() => vpcd.close());
    const card = new EchoCard();
    const connector = new VpcdConnector({ port: vpcd.port, card });
    cleanups.push(() => connector.close());
    await connector.connect();
    expect(connector.state).toBe('inserted');
    const socket = await vpcd.accepted;

    // Byte by byte: power on, then get ATR.
    for (const b of Buffer.concat([
      encodeVpcdFrame(Uint8Array.of(VPCD_CTRL.POWER_ON)),
      encodeVpcdFrame(Uint8Array.of(VPCD_CTRL.GET_ATR)),
    ])) {
      socket.write(Uint8Array.of(b));
      await sleep(1);
    }
    expect(await vpcd.next(1)).toEqual([card.atr]);
    expect(card.events).toEqual(['up']);

    // Three APDUs and a reset merged into one chunk: three answers, in order.
    socket.write(
      Buffer.concat([
        encodeVpcdFrame(fromHex('00A4040002 3F00')),
        encodeVpcdFrame(fromHex('00CA000003')),
        encodeVpcdFrame(Uint8Array.of(VPCD_CTRL.RESET)),
        encodeVpcdFrame(fromHex('0077000000')),
      ]),
    );
    expect(await vpcd.next(3)).toEqual([fromHex('9000'), fromHex('000102 9000'), fromHex('6D00')]);
    expect(card.events).toEqual(['up', 'reset']);

    // An extended APDU (1007 bytes) split into uneven chunks, the prefix split as well.
    const big = encodeCommandApdu({
      cla: 0,
      ins: INS.ECHO,
      p1: 0,
      p2: 0,
      data: new Uint8Array(1000).fill(0x5a),
    });
    const frame = encodeVpcdFrame(big);
    for (const [from, to] of [
      [0, 1],
      [1, 300],
      [300, 301],
      [301, frame.length],
    ] as const) {
      socket.write(frame.subarray(from, to));
      await sleep(5);
    }
    const [echo] = await vpcd.next(1);
    expect(echo!.length).toBe(1002);
    expect(parseResponseApdu(echo!).data).toEqual(new Uint8Array(1000).fill(0x5a));

    socket.write(encodeVpcdFrame(Uint8Array.of(VPCD_CTRL.POWER_OFF)));
    await sleep(20);
    expect(card.events.at(-1)).toBe('down');
  });

  it('retries until vpcd listens, and removal closes the socket', async () => {
    const probe = await fakeVpcd();
    const port = probe.port;
    await probe.close(); // the port is now (most likely) free: nothing listens yet
    const connector = new VpcdConnector({ port, card: new EchoCard(), retryIntervalMs: 20 });
    cleanups.push(() => connector.close());
    const connecting = connector.connect();
    expect(connector.state).toBe('connecting');
    await sleep(150);
    const vpcd = await fakeVpcd(port);
    cleanups.push(() => vpcd.close());
    await connecting;
    const socket = await vpcd.accepted;
    const ended = new Promise((resolve) => socket.once('close', resolve));
    await connector.remove();
    expect(connector.state).toBe('removed');
    await ended;
  });

  it('gives up with E_READER_UNAVAILABLE when nothing listens', async () => {
    const probe = await fakeVpcd();
    await probe.close();
    const connector = new VpcdConnector({ port: probe.port, card: new EchoCard(), connectTimeoutMs: 200 });
    const started = Date.now();
    await expectTerminalError(connector.connect(), 'E_READER_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(connector.state).toBe('removed');
  });

  it('reports vpcd going away through onDisconnect', async () => {
    const vpcd = await fakeVpcd();
    const lost: TerminalError[] = [];
    const connector = new VpcdConnector({
      port: vpcd.port,
      card: new EchoCard(),
      onDisconnect: (e) => lost.push(e),
    });
    await connector.connect();
    await vpcd.close();
    for (let i = 0; i < 100 && lost.length === 0; i++) await sleep(10);
    expect(lost.map((e) => e.code)).toEqual(['E_READER_UNAVAILABLE']);
    expect(connector.state).toBe('removed');
    await connector.close();
    await expectTerminalError(connector.connect(), 'E_TRANSPORT');
  });
});

describe('InProcessChannel', () => {
  it('powers the card up on connect and down on close', async () => {
    const card = new EchoCard();
    const channel = await InProcessChannel.connect(card);
    expect(channel.atr).toEqual(card.atr);
    expect(await channel.transmit(fromHex('00CA000002'))).toEqual(fromHex('0001 9000'));
    await channel.close();
    expect(card.events).toEqual(['up', 'down']);
    await expectTerminalError(channel.transmit(fromHex('00A4040000')), 'E_TRANSPORT');
  });
});

// --- against a real pcscd with vpcd readers -----------------------------------------------------

/** A vpcd client that answers power and ATR requests but never answers an APDU: a stalled card. */
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
        socket.once('close', () => resolve());
        socket.destroy();
      }),
  };
}

function scriptor(
  reader: string,
  script: string,
  env: NodeJS.ProcessEnv,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile('scriptor', ['-r', reader], { env, timeout: 15_000 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stdout, stderr }));
      else resolve({ stdout, stderr });
    });
    child.stdin?.end(script);
  });
}

describe('VpcdConnector in a real pcscd reader', () => {
  let harness: PcscdHarness;
  let client: PcscClient;
  let names: string[];
  const events: PcscEvent[] = [];
  const connectors: VpcdConnector[] = [];

  const insert = async (reader: number, card: VirtualCard = new EchoCard()) => {
    const connector = new VpcdConnector({ port: harness.ports[reader]!, card });
    connectors.push(connector);
    await connector.connect();
    return connector;
  };

  beforeAll(async () => {
    harness = await startPcscd({ readers: 2 });
    client = new PcscClient({ socketPath: harness.socketPath });
    client.on((e) => events.push(e));
    names = await harness.readerNames();
  });

  afterEach(async () => {
    for (const c of connectors.splice(0)) await c.close();
    for (const name of names) await client.waitForCardAbsent(name);
  });

  afterAll(async () => {
    await client?.close();
    await harness?.stop();
  });

  it('runs a private pcscd whose readers the client lists', async () => {
    expect(harness.isolation).toBe('namespace');
    expect(harness.socketPath.startsWith(harness.dir)).toBe(true);
    expect(process.env.PCSCLITE_CSOCK_NAME).toBe(harness.socketPath);
    expect(names).toEqual(['Virtual PCD A 00 00', 'Virtual PCD A 00 01']);
    expect(await client.listReaders()).toEqual(expect.arrayContaining(names));
    await client.waitForCardAbsent(names[0]!); // the first status report may still be on its way
    expect(client.status(names[0]!)).toMatchObject({ cardPresent: false, atr: undefined });
  });

  it('shows the card when the connector connects, with its ATR', async () => {
    const card = new EchoCard();
    await insert(0, card);
    const atr = await client.waitForCard(names[0]!);
    expect(toHex(atr)).toBe(toHex(card.atr));
    expect(events).toContainEqual({ type: 'card-inserted', reader: names[0], atr: card.atr });
    expect(client.status(names[1]!)?.cardPresent).toBe(false);
    expect(card.events).toContain('up');
  });

  it('round-trips short and extended APDUs', async () => {
    const card = new EchoCard();
    await insert(0, card);
    await client.waitForCard(names[0]!);
    const channel = await client.connect(names[0]!);
    try {
      expect(toHex(channel.atr)).toBe(toHex(card.atr));
      expect(channel.protocol).toBe('T=1');
      expect(await channel.transmit(fromHex('00A4040007 A0000000041010'))).toEqual(fromHex('9000'));
      expect(await channel.transmit(fromHex('00CA000004'))).toEqual(fromHex('00010203 9000'));
      expect(await channel.transmit(fromHex('0077000000'))).toEqual(fromHex('6D00'));

      // Extended length both ways: vpcd advertises 64 KiB APDUs and pcscd passes them through.
      const getData = encodeCommandApdu({ cla: 0, ins: INS.GET_DATA, p1: 0, p2: 0, ne: 1000 });
      expect(getData.length).toBe(7); // 2E: 00 CA 00 00 00 03 E8
      const long = parseResponseApdu(await channel.transmit(getData));
      expect(long.sw).toBe(SW.OK);
      expect(long.data).toEqual(Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff));

      const payload = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);
      const echo = encodeCommandApdu({ cla: 0, ins: INS.ECHO, p1: 0, p2: 0, data: payload, ne: 65536 });
      expect(echo.length).toBe(1009); // 4E
      const echoed = parseResponseApdu(await channel.transmit(echo));
      expect(echoed.sw).toBe(SW.OK);
      expect(echoed.data).toEqual(payload);
      expect(card.apdus.at(-1)).toEqual(echo);

      // The largest response a vpcd message can carry: 65533 data bytes + SW.
      const max = await channel.transmit(
        encodeCommandApdu({ cla: 0, ins: INS.GET_DATA, p1: 0, p2: 0, ne: 65536 }),
      );
      expect(max.length).toBe(65535);
    } finally {
      await channel.close();
    }
    expect(card.events.at(-1)).toBe('reset'); // default disposition resets the card
  });

  it('serves two readers at once', async () => {
    const [a, b] = [new EchoCard(), new EchoCard()];
    await insert(0, a);
    await insert(1, b);
    await client.waitForCard(names[0]!);
    await client.waitForCard(names[1]!);
    const [ca, cb] = [await client.connect(names[0]!), await client.connect(names[1]!)];
    const [ra, rb] = await Promise.all([
      ca.transmit(fromHex('00CA000001')),
      cb.transmit(fromHex('00CA000002')),
    ]);
    expect(ra).toEqual(fromHex('00 9000'));
    expect(rb).toEqual(fromHex('0001 9000'));
    expect(a.apdus).toHaveLength(1);
    expect(b.apdus).toHaveLength(1);
    await Promise.all([ca.close(), cb.close()]);
  });

  it('sees the card removed, fails the open channel with E_CARD_ABSENT, and sees it again', async () => {
    const connector = await insert(0);
    await client.waitForCard(names[0]!);
    const channel = await client.connect(names[0]!);
    expect(await channel.transmit(fromHex('00A4040000'))).toEqual(fromHex('9000'));

    await connector.remove();
    await client.waitForCardAbsent(names[0]!, { timeoutMs: 5_000 });
    expect(events).toContainEqual({ type: 'card-removed', reader: names[0] });
    await expectTerminalError(channel.transmit(fromHex('00A4040000')), 'E_CARD_ABSENT');
    expect(channel.broken?.code).toBe('E_CARD_ABSENT');
    await channel.close(); // does not throw for a card that is gone
    await expectTerminalError(client.connect(names[0]!), 'E_CARD_ABSENT');

    await connector.insert();
    await client.waitForCard(names[0]!);
    const again = await client.connect(names[0]!);
    expect(await again.transmit(fromHex('00CA000001'))).toEqual(fromHex('00 9000'));
    await again.close();
  });

  it('times out a transmit the card never answers and marks the channel broken', async () => {
    const mute = await muteCard(harness.ports[0]!, testAtr());
    try {
      await client.waitForCard(names[0]!);
      const channel = await client.connect(names[0]!);
      const started = Date.now();
      const error = await expectTerminalError(
        channel.transmit(fromHex('00A4040000'), { timeoutMs: 500 }),
        'E_TRANSPORT_TIMEOUT',
      );
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(450);
      expect(elapsed).toBeLessThan(3_000);
      expect(error.details).toMatchObject({ reader: names[0], timeoutMs: 500 });
      expect(mute.apdus).toEqual([fromHex('00A4040000')]);
      expect(channel.broken?.code).toBe('E_TRANSPORT_TIMEOUT');
      const again = await expectTerminalError(channel.transmit(fromHex('00A4040000')), 'E_TRANSPORT');
      expect(again.details.cause).toBe('E_TRANSPORT_TIMEOUT');
      await channel.close(); // returns at once; the disconnect waits for the stuck call
    } finally {
      await mute.close(); // pulling the stalled card releases pcscd and the pool thread
    }
    await client.waitForCardAbsent(names[0]!);

    // The reader recovers: a working card in the same reader answers normally.
    await insert(0);
    await client.waitForCard(names[0]!);
    const fresh = await client.connect(names[0]!);
    expect(await fresh.transmit(fromHex('00A4040000'))).toEqual(fromHex('9000'));
    await fresh.close();
  });

  it('answers scriptor from pcsc-tools as an outside PC/SC client', async () => {
    await insert(1);
    await client.waitForCard(names[1]!);
    const script = ['00 A4 04 00 02 3F 00', '00 CA 00 00 04', '00 77 00 00', ''].join('\n');
    const { stdout } = await scriptor(names[1]!, script, harness.env);
    expect(stdout).toMatch(/Using T=1 protocol/);
    expect(stdout).toMatch(/> 00 A4 04 00 02 3F 00\n< 90 00 : Normal processing\./);
    expect(stdout).toMatch(/> 00 CA 00 00 04\n< 00 01 02 03 90 00 : Normal processing\./);
    expect(stdout).toMatch(/> 00 77 00 00\n< 6D 00 : /);
  });

  it('reports an unknown reader as E_READER_UNAVAILABLE', async () => {
    const error = await expectTerminalError(client.connect('No Such Reader 00 00'), 'E_READER_UNAVAILABLE');
    expect(isTerminalError(error, 'E_READER_UNAVAILABLE')).toBe(true);
  });
});
