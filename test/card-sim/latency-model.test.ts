// The real-card latency model: link arithmetic against hand-computed figures (T=1 characters and
// blocks, ISO 14443 frames, chaining at the frame-size boundaries, waiting-time extensions), the
// chip's processing time from what a command really did (a DEBIT: two CMACs and one commit), the
// meter counting only card-side work, the wrapper changing no byte, and real-time mode holding the
// answer back by the modelled time (checked on fake timers: no wall-clock assertion).
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { personalizeCard } from '../../card-sim/issuer/issuer.js';
import { MemoryBackend } from '../../card-sim/os/persistence-backend.js';
import { createSettlementCard } from '../../card-sim/settlement-card.js';
import {
  JCOP4_P71,
  processingTiming,
  sha256Blocks,
  writeTime,
} from '../../card-sim/transport/chip-timing.js';
import { InProcessChannel } from '../../card-sim/transport/in-process-channel.js';
import { LatencyCard } from '../../card-sim/transport/latency-card.js';
import {
  type ApduRecord,
  apduTiming,
  flowTiming,
  LatencyLedger,
  LINKS,
  modelById,
} from '../../card-sim/transport/latency-model.js';
import {
  activationTiming,
  chunks,
  exchangeTiming,
  fwtOf,
  type T1Link,
  type TypeALink,
  typeAFrameMs,
} from '../../card-sim/transport/link-timing.js';
import { encodeVpcdFrame, VpcdConnector, VpcdFrameDecoder } from '../../card-sim/transport/vpcd-connector.js';
import { fromHex } from '../../protocol/bytes.js';
import { aesCmac, ecdsaSign, generateP256KeyPair, sha256Digest } from '../../protocol/crypto-suite.js';
import { INS } from '../../protocol/settlement/commands.js';
import { SettlementClient } from '../../protocol/settlement/settlement-client.js';
import type { VirtualCard } from '../../protocol/virtual-card.js';
import { DEFAULT_CARD, NOW, TEST_CURRENCY, testIssuer } from '../support/card-fixtures.js';

const contact9600 = LINKS['contact-9600'] as T1Link;
const contact115k = LINKS['contact-115200'] as T1Link;
const contactless106 = LINKS['contactless-106'] as TypeALink;
const contactless424 = LINKS['contactless-424'] as TypeALink;

describe('T=1 contact link', () => {
  it('times a known APDU at 9,600 bit/s: 11-etu characters, prologue and LRC, BGT', () => {
    // etu = 372 / 3.5712 MHz = 0.1041667 ms. Command block 3 + 20 + 1 = 24 characters = 264 etu;
    // response block 3 + 18 + 1 = 22 characters = 242 etu; the reader's gap BGT − 11 = 11 etu.
    const etu = 372 / 3571.2;
    const t = exchangeTiming(contact9600, 20, 18, 10);
    expect(t.toCardMs).toBeCloseTo(264 * etu, 9);
    expect(t.fromCardMs).toBeCloseTo(242 * etu, 9);
    expect(t.turnaroundMs).toBeCloseTo(11 * etu, 9);
    expect(t.processingMs).toBe(10);
    expect(t.totalMs).toBeCloseTo(27.5 + 25.2083333 + 1.1458333 + 10, 6);
    expect([t.blocksToCard, t.blocksFromCard, t.waitExtensions]).toEqual([1, 1, 0]);
  });

  it('is 12 times faster on the wire at 115,200 bit/s', () => {
    const slow = exchangeTiming(contact9600, 100, 50, 0);
    const fast = exchangeTiming(contact115k, 100, 50, 0);
    expect(slow.toCardMs / fast.toCardMs).toBeCloseTo(12, 9);
    expect(slow.fromCardMs / fast.fromCardMs).toBeCloseTo(12, 9);
  });

  it('chains a command above IFSC (254) into two I-blocks, the card acknowledging the first', () => {
    const at = exchangeTiming(contact115k, 254, 2, 1);
    const over = exchangeTiming(contact115k, 255, 2, 1);
    expect([at.blocksToCard, at.blocksFromCard]).toEqual([1, 1]);
    expect([over.blocksToCard, over.blocksFromCard]).toEqual([2, 2]);
    const etu = 31 / 3571.2;
    // The extra: a second block's prologue and LRC (4 characters), an R-block (4 characters), two gaps.
    expect(over.totalMs - at.totalMs).toBeCloseTo((1 + 4 + 4) * 11 * etu + 2 * 11 * etu, 9);
  });

  it('chains a response above IFSD, the reader acknowledging each block but the last', () => {
    const t = exchangeTiming({ ...contact115k, ifsd: 32 }, 5, 100, 1);
    expect(chunks(100, 32)).toEqual([32, 32, 32, 4]);
    expect([t.blocksToCard, t.blocksFromCard]).toEqual([1 + 3, 4]);
  });

  it('asks for waiting-time extensions when processing passes BWT', () => {
    const bwt = contact9600.bwtMs;
    expect(bwt).toBeGreaterThan(1500); // BWI 4: 11 etu + 16 · 960 · 372 / f ≈ 1.6 s
    expect(exchangeTiming(contact9600, 5, 2, bwt).waitExtensions).toBe(0);
    expect(exchangeTiming(contact9600, 5, 2, bwt + 1).waitExtensions).toBe(1);
    expect(exchangeTiming(contact9600, 5, 2, 3 * bwt + 1).waitExtensions).toBe(3);
  });

  it('activates with the ATR at the initial rate, and PPS only where the rate changes', () => {
    const atr = fromHex('3B 88 80 01 53 54 4C 4D 2D 53 49 4D 00');
    const slow = activationTiming(contact9600, atr);
    const fast = activationTiming(contact115k, atr);
    const initialEtu = 372 / 3571.2;
    const atrMs = (40_000 / 3_571_200) * 1000 + 13 * 12 * initialEtu;
    expect(slow.ms).toBeGreaterThan(atrMs);
    expect(fast.ms - atrMs).toBeGreaterThan(8 * 12 * initialEtu); // PPS: 4 characters each way
    expect(slow.detail).not.toContain('PPS');
  });
});

describe('ISO 14443 Type A link', () => {
  it('times a known APDU at 106 kbit/s: 9 bits a byte, start and end bits, PCB and CRC, FDT', () => {
    // 5-byte command → frame of 1 + 5 + 2 bytes = 2 + 72 bits; 2-byte answer → 5 bytes = 47 bits.
    const bit = 128 / 13_560; // ms
    const t = exchangeTiming(contactless106, 5, 2, 3);
    expect(t.toCardMs).toBeCloseTo(74 * bit, 9);
    expect(t.fromCardMs).toBeCloseTo(47 * bit, 9);
    expect(t.turnaroundMs).toBeCloseTo(1172 / 13_560, 9);
    expect(t.totalMs).toBeCloseTo(74 * bit + 47 * bit + 1172 / 13_560 + 3, 9);
  });

  it('is four times faster per frame at 424 kbit/s', () => {
    expect(typeAFrameMs(contactless106, 40) / typeAFrameMs(contactless424, 40)).toBeCloseTo(4, 9);
  });

  it('chains at FSC − 3 (253 bytes of INF) towards the card and FSD − 3 back', () => {
    expect(exchangeTiming(contactless424, 253, 2, 1).blocksToCard).toBe(1);
    expect(exchangeTiming(contactless424, 254, 2, 1)).toMatchObject({ blocksToCard: 2, blocksFromCard: 2 });
    expect(exchangeTiming(contactless424, 5, 253, 1)).toMatchObject({ blocksToCard: 1, blocksFromCard: 1 });
    expect(exchangeTiming(contactless424, 5, 258, 1)).toMatchObject({ blocksToCard: 2, blocksFromCard: 2 });
    const small = exchangeTiming({ ...contactless424, fsc: 64 }, 200, 2, 1);
    expect(small.blocksToCard).toBe(4); // 61 + 61 + 61 + 17
  });

  it('extends the frame waiting time with S(WTX) when processing passes FWT', () => {
    const fwt = fwtOf(contactless424);
    expect(fwt).toBeCloseTo((256 * 16 * 256) / 13_560, 6); // FWI 8: 77.3 ms
    expect(exchangeTiming(contactless424, 5, 2, fwt).waitExtensions).toBe(0);
    const long = exchangeTiming(contactless424, 5, 2, 2.5 * fwt);
    expect(long.waitExtensions).toBe(2);
    expect(long.totalMs).toBeGreaterThan(2.5 * fwt);
  });

  it('activates at 106 kbit/s, with PPS only for the faster rate', () => {
    const atr = fromHex('3B 88 80 01 53 54 4C 4D 2D 53 49 4D 00');
    const slow = activationTiming(contactless106, atr);
    const fast = activationTiming(contactless424, atr);
    expect(slow.ms).toBeGreaterThan(5); // the field settle time alone
    expect(fast.ms).toBeGreaterThan(slow.ms);
    expect(fast.detail).toContain('PPS');
  });
});

describe('chip processing', () => {
  const record = (work: ApduRecord['work']): ApduRecord => ({
    kind: 'apdu',
    card: 'c',
    cla: 0x80,
    ins: 0x34,
    commandBytes: 53,
    responseBytes: 18,
    sw: 0x9000,
    work,
  });

  it('prices each kind of work from the profile', () => {
    const chip = JCOP4_P71;
    const t = processingTiming(
      {
        crypto: [
          { operation: 'aes-cmac', bytes: 90, aadBytes: 0 },
          { operation: 'aes-cmac', bytes: 90, aadBytes: 0 },
          { operation: 'ecdsa-verify', bytes: 200, aadBytes: 0 },
          { operation: 'sha256', bytes: 100, aadBytes: 0 },
          { operation: 'random', bytes: 16, aadBytes: 0 },
        ],
        commits: [[4, 33]],
      },
      chip,
    );
    // Two CMACs of 6 blocks; the MAC object initialised once for the command.
    expect(t.symmetricMs).toBeCloseTo(chip.mac.initMs + 2 * (chip.mac.callMs + 6 * chip.mac.perBlockMs), 9);
    // A verification with a received key: setW, init, verify, and SHA-256 blocks beyond the first.
    expect(t.publicKeyMs).toBeCloseTo(
      chip.ecdsa.setPublicKeyMs + chip.ecdsa.initMs + chip.ecdsa.verifyMs + 3 * chip.sha256.perBlockMs,
      9,
    );
    expect(sha256Blocks(100)).toBe(2);
    expect(t.hashMs).toBeCloseTo(chip.sha256.callMs + 2 * chip.sha256.perBlockMs, 9);
    expect(t.randomMs).toBe(chip.randomMs);
    expect(t.writeMs).toBeCloseTo(2 * chip.write.smallMs, 9);
    expect(t.totalMs).toBeCloseTo(
      chip.commandMs + t.symmetricMs + t.publicKeyMs + t.hashMs + t.randomMs + t.writeMs,
      9,
    );
    expect(
      apduTiming(record({ crypto: [], commits: [] }), modelById('contactless-424')).processing.totalMs,
    ).toBe(chip.commandMs);
  });

  it('charges a write of more than the small size by the byte', () => {
    expect(writeTime(64, JCOP4_P71)).toBe(2.85);
    expect(writeTime(256, JCOP4_P71)).toBeCloseTo(5.37, 9); // JCAlgTest's 256-byte Util.arrayCopy
  });
});

// --- a real settlement card behind the wrapper ---

function latencyCard(ledger: LatencyLedger, label: string, o: { mode?: 'virtual' | 'real-time' } = {}) {
  const initial = personalizeCard(testIssuer(), { ...DEFAULT_CARD });
  const sim = createSettlementCard({ backend: new MemoryBackend(), initial });
  const card = new LatencyCard(sim.os, {
    store: sim.store,
    model: modelById('contactless-424'),
    ledger,
    label,
    ...(o.mode ? { mode: o.mode } : {}),
  });
  return { sim, card, holderId: fromHex(initial.holderId) };
}

async function valueTransfer(
  a: SettlementClient,
  b: SettlementClient,
  ids: { a: Uint8Array; b: Uint8Array },
) {
  const terms = { currency: TEST_CURRENCY, amount: 250, date: NOW };
  const debit = await a.initiateDebit({ counterpartId: ids.b, ...terms });
  const { txRandom } = debit;
  const { rxRandom, challenge } = await b.initiateCredit({ counterpartId: ids.a, ...terms }, debit);
  const reception = await a.debit(txRandom, rxRandom, challenge);
  const ack = await b.credit(txRandom, reception);
  await a.acknowledgeDebit(txRandom, ack);
}

describe('LatencyCard', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('counts a DEBIT as two CMACs and one commit of the balance, the no-PIN counters and the debit record', async () => {
    const ledger = new LatencyLedger();
    const payer = latencyCard(ledger, 'payer');
    const payee = latencyCard(ledger, 'payee');
    const a = new SettlementClient(await InProcessChannel.connect(payer.card));
    const b = new SettlementClient(await InProcessChannel.connect(payee.card));
    await a.select();
    await b.select();
    const mark = ledger.mark();
    await valueTransfer(a, b, { a: payer.holderId, b: payee.holderId });

    const apdus = ledger.since(mark).filter((r): r is ApduRecord => r.kind === 'apdu');
    expect(apdus.map((r) => `${r.card}:${r.ins.toString(16)}`)).toEqual([
      'payer:30',
      'payee:32',
      'payer:34',
      'payee:36',
      'payer:38',
    ]);
    const debit = apdus.find((r) => r.ins === INS.DEBIT)!;
    expect(debit.work.crypto.map((c) => c.operation)).toEqual(['aes-cmac', 'aes-cmac']);
    expect(debit.work.commits).toHaveLength(1);
    // The balance (4 bytes), the no-PIN counters of a payment made without the PIN (protocol §4.6: amount
    // and count, each a number field here), and the record's status, payee random and reception
    // challenge (1 + 16 + 16).
    expect([...debit.work.commits[0]!].sort((x, y) => x - y)).toEqual([4, 4, 4, 33]);
    expect(debit.sw).toBe(0x9000);
    const t = apduTiming(debit, modelById('contactless-424'));
    const chip = JCOP4_P71;
    expect(t.processing.symmetricMs).toBeCloseTo(
      chip.mac.initMs +
        2 * (chip.mac.callMs + chip.mac.perBlockMs * Math.ceil(debit.work.crypto[0]!.bytes / 16)),
      9,
    );
    expect(t.processing.writeMs).toBeCloseTo(4 * chip.write.smallMs, 9);
    expect(payer.card.lastApdu?.record.ins).toBe(INS.ACKNOWLEDGE_DEBIT);

    const flow = flowTiming(ledger.since(mark), modelById('contactless-424'));
    expect(flow.apdus).toBe(5);
    expect(flow.totalMs).toBeCloseTo(flow.activationMs + flow.transmissionMs + flow.processing.totalMs, 9);
  });

  it('counts only the card’s work: the terminal’s crypto between commands is not metered', async () => {
    const ledger = new LatencyLedger();
    const { card } = latencyCard(ledger, 'payer');
    const channel = await InProcessChannel.connect(card);
    await new SettlementClient(channel).select();
    // Terminal-side crypto outside any card command…
    const keys = generateP256KeyPair();
    ecdsaSign(keys.privateKey, new Uint8Array(300));
    aesCmac(new Uint8Array(16), new Uint8Array(64));
    sha256Digest(new Uint8Array(64));
    // …and a command that does no crypto at all.
    await channel.transmit(fromHex('803E010000')); // GET TRANSACTION STATUS, list unsettled
    const work = ledger.records.filter((r): r is ApduRecord => r.kind === 'apdu').map((r) => r.work);
    expect(work.flatMap((w) => w.crypto)).toEqual([]);
    expect(work.flatMap((w) => w.commits)).toEqual([]);
  });

  it('is transparent: the same answers, byte for byte, with and without the wrapper', async () => {
    const initial = personalizeCard(testIssuer(), { ...DEFAULT_CARD });
    const bare = createSettlementCard({
      backend: new MemoryBackend(),
      initial,
      random: () => new Uint8Array(16),
    });
    const inner = createSettlementCard({
      backend: new MemoryBackend(),
      initial,
      random: () => new Uint8Array(16),
    });
    const wrapped = new LatencyCard(inner.os, { store: inner.store, model: modelById('contact-9600') });
    const commands = [
      'FFFF0000', // unknown class before SELECT
      '80100000 00', // no application selected
      '00A4040006 F053544C4D01', // SELECT the settlement applet
      '8010000000', // GET CARD INFO: answered in parts, 61XX
      '00C0000000', // GET RESPONSE
      '00C0000000',
      '0020008004 39393939', // VERIFY with a wrong PIN: a retry counter is written
      '0020008004 31323334', // VERIFY with the right one
      '8012000000', // GET BALANCE
      '803E010000', // GET TRANSACTION STATUS, list unsettled
      '8034000000', // DEBIT without data
      '8099000000', // unknown INS
      '01', // not an APDU
    ];
    bare.os.powerUp();
    wrapped.powerUp();
    for (const hex of commands) {
      const apdu = fromHex(hex);
      expect(wrapped.transmit(apdu)).toEqual(bare.os.transmit(apdu));
    }
    expect(wrapped.atr).toEqual(bare.os.atr);
    expect(inner.store.read()).toEqual(bare.store.read());
    expect(wrapped.ledger.records.filter((r) => r.kind === 'apdu')).toHaveLength(commands.length);
    expect(wrapped.answerDelayMs()).toBe(0); // virtual mode never delays
  });

  it('in real-time mode holds the answer back by the APDU’s modelled time (fake timers)', async () => {
    vi.useFakeTimers();
    const ledger = new LatencyLedger();
    const { card } = latencyCard(ledger, 'payer', { mode: 'real-time' });
    const channel = await InProcessChannel.connect(card);
    let answered = false; // no SELECT: the card answers 6985, which takes modelled time like any answer
    const pending = channel.transmit(fromHex('803E010000')).then((r) => {
      answered = true;
      return r;
    });
    await vi.advanceTimersByTimeAsync(0);
    const modelled = card.lastApdu!.timing.totalMs;
    expect(modelled).toBeGreaterThan(JCOP4_P71.commandMs); // at least the command base and the link
    expect(card.answerDelayMs()).toBeLessThanOrEqual(modelled);
    expect(card.answerDelayMs()).toBeGreaterThan(0);
    expect(answered).toBe(false);
    await vi.advanceTimersByTimeAsync(card.answerDelayMs() / 2);
    expect(answered).toBe(false);
    await vi.advanceTimersByTimeAsync(card.answerDelayMs());
    expect(answered).toBe(true);
    expect(await pending).toEqual(fromHex('6985'));
  });

  it('records each power-up as an activation, which the flow prices under its link', () => {
    const ledger = new LatencyLedger();
    const { card } = latencyCard(ledger, 'payer');
    card.powerUp();
    card.reset();
    const flow = flowTiming(ledger.records, modelById('contactless-424'));
    expect(flow.activations).toBe(2);
    expect(flow.activationMs).toBeCloseTo(2 * activationTiming(contactless424, card.atr).ms, 9);
    expect(flow.apdus).toBe(0);
  });
});

describe('VpcdConnector with a card that asks for answer delays', () => {
  it('holds an answer back by its delay, and later answers behind it, in order', async () => {
    const delays = [40, 0];
    const card: VirtualCard = {
      atr: fromHex('3B 80 80 01 01'),
      powerUp: () => undefined,
      powerDown: () => undefined,
      reset: () => undefined,
      transmit: (apdu) => (apdu[1] === 0x01 ? fromHex('9000') : fromHex('6D00')),
      answerDelayMs: () => delays.shift() ?? 0,
    };
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const connector = new VpcdConnector({ port: (server.address() as net.AddressInfo).port, card });
    const timers = vi.spyOn(globalThis, 'setTimeout');
    try {
      await connector.connect();
      const socket = await accepted;
      const decoder = new VpcdFrameDecoder();
      const answers: Uint8Array[] = [];
      const both = new Promise<void>((resolve) =>
        socket.on('data', (chunk) => {
          answers.push(...decoder.push(chunk));
          if (answers.length === 2) resolve();
        }),
      );
      // Two APDUs in one chunk: the first answer waits 40 ms, the second (no delay of its own) behind it.
      socket.write(
        Buffer.concat([encodeVpcdFrame(fromHex('00010000')), encodeVpcdFrame(fromHex('00020000'))]),
      );
      await both;
      expect(answers).toEqual([fromHex('9000'), fromHex('6D00')]);
      expect(timers.mock.calls.some((call) => call[1] === 40)).toBe(true);
      socket.destroy();
    } finally {
      timers.mockRestore();
      await connector.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
