// How long one APDU takes on the wire between a reader and a card: ISO/IEC 7816-3 T=1 (contact) and
// ISO/IEC 14443-4 over Type A (contactless), block by block. Pure arithmetic; the card's own
// processing time comes in as a number (chip-timing.ts) and sits between the last block of the
// command and the first block of the response. Reader, USB and host times are not modelled (the
// pcscd benchmarks measure those on this machine). Where a parameter is a choice rather than the
// standard's, it says so; bench/README.md ("Card latency model") gives the sources.

/** ISO/IEC 7816-3 T=1 at a fixed bit rate (after PPS). */
export interface T1Link {
  kind: 't1';
  name: string;
  /** Card clock, Hz (3.5712 MHz: the clock at which Fi = 372 gives 9,600 bit/s). */
  clockHz: number;
  /** Clock cycles per etu after PPS (F/D): 372 = 9,600 bit/s, 31 = 115,200 bit/s at 3.5712 MHz. */
  clocksPerEtu: number;
  /**
   * Character period in etu, leading edge to leading edge: 10 etu of frame (start, 8 data, parity) plus
   * the character guard time; 12 etu by default, 11 for T=1 when the ATR sets N = 255.
   */
  charEtu: 11 | 12;
  /** Block guard time BGT, etu: the least time between the last character of a block and the first of the next in the other direction. */
  bgtEtu: number;
  /** Information field size of the card (IFSC, from the ATR) and of the reader (IFSD, by S(IFS) after the ATR). */
  ifsc: number;
  ifsd: number;
  /** Epilogue: LRC (1 byte) or CRC (2 bytes). */
  edcBytes: 1 | 2;
  /** Block waiting time BWT, ms: a card busy for longer asks for more with S(WTX). Default BWI 4 → ~1.6 s. */
  bwtMs: number;
  /** Whether activation includes a PPS exchange at the initial 9,600 bit/s (a faster rate than the default). */
  pps: boolean;
}

/** ISO/IEC 14443 Type A with the ISO/IEC 14443-4 block protocol. */
export interface TypeALink {
  kind: 'type-a';
  name: string;
  /** Carrier, 13.56 MHz. */
  carrierHz: number;
  /** Carrier cycles per bit: 128 = 106 kbit/s, 32 = 424 kbit/s. */
  cyclesPerBit: number;
  /** Frame sizes in bytes, prologue and CRC included: the card's (FSC, from the ATS) and the reader's (FSD, in RATS). */
  fsc: number;
  fsd: number;
  /** Frame waiting time FWT = 256 · 16 · 2^FWI / fc: a card busy for longer asks for more with S(WTX). */
  fwi: number;
  /** Frame delay time, carrier cycles, in each direction (the minimum of ISO/IEC 14443-3, 1172/fc). */
  fdtCycles: number;
  /** UID length, which sets the cascade levels of anticollision: 4 → 1, 7 → 2, 10 → 3. */
  uidBytes: 4 | 7 | 10;
  /** Time the card needs in the field before the first command, ms. */
  fieldSettleMs: number;
}

export type LinkModel = T1Link | TypeALink;

/** Where an APDU's time on the link goes. */
export interface ExchangeTiming {
  /** Blocks the reader sent and the card sent (I-, R- and S-blocks). */
  blocksToCard: number;
  blocksFromCard: number;
  /** Time on the wire: the reader's blocks, the card's blocks. */
  toCardMs: number;
  fromCardMs: number;
  /** Least gaps between blocks (BGT, FDT) other than the one the card fills with processing. */
  turnaroundMs: number;
  /** The card's processing (given), or the least gap when processing is shorter. */
  processingMs: number;
  /** Waiting-time extensions the card must ask for, and their blocks' time. */
  waitExtensions: number;
  /** Everything: wire, gaps, processing and extensions. */
  totalMs: number;
}

const T1_PROLOGUE = 3; // NAD, PCB, LEN
const TYPE_A_PROLOGUE = 1; // PCB (no CID, no NAD)
const TYPE_A_CRC = 2;

/** Link time of one APDU: `commandBytes` to the card, `processingMs` on it, `responseBytes` (SW included) back. */
export function exchangeTiming(
  link: LinkModel,
  commandBytes: number,
  responseBytes: number,
  processingMs: number,
): ExchangeTiming {
  return link.kind === 't1'
    ? t1Exchange(link, commandBytes, responseBytes, processingMs)
    : typeAExchange(link, commandBytes, responseBytes, processingMs);
}

/** One card presence: ATR (and PPS, IFSD) for contact; field, anticollision, RATS/ATS (and PPS) contactless. */
export function activationTiming(link: LinkModel, atr: Uint8Array): { ms: number; detail: string } {
  return link.kind === 't1' ? t1Activation(link, atr) : typeAActivation(link, atr);
}

/** Bit rate of a link, bit/s. */
export function bitRate(link: LinkModel): number {
  return link.kind === 't1' ? link.clockHz / link.clocksPerEtu : link.carrierHz / link.cyclesPerBit;
}

/** Payloads split into blocks of at most `size` bytes (at least one block, for an empty payload). */
export function chunks(length: number, size: number): number[] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`block size must be ≥ 1, not ${size}`);
  if (length <= 0) return [0];
  const out: number[] = [];
  for (let left = length; left > 0; left -= size) out.push(Math.min(left, size));
  return out;
}

/** A block protocol as both links run it: I-blocks chained at a size, acknowledged by R-blocks, S(WTX). */
interface BlockProtocol {
  /** Time on the wire of a block carrying `inf` bytes of information field. */
  blockMs(inf: number): number;
  /** The least gap between two blocks in opposite directions. */
  gapMs: number;
  /** Largest information field towards the card and back. */
  toCardInf: number;
  fromCardInf: number;
  /** How long the card may take before it must ask for more time with S(WTX). */
  waitMs: number;
}

function blockExchange(
  p: BlockProtocol,
  commandBytes: number,
  responseBytes: number,
  processingMs: number,
): ExchangeTiming {
  const ackMs = p.blockMs(0); // an R-block carries no information field
  const command = chunks(commandBytes, p.toCardInf);
  const response = chunks(responseBytes, p.fromCardInf);
  // Each chained I-block but the last is acknowledged by the other side: an R-block and two gaps.
  const toCardMs = command.reduce((s, inf) => s + p.blockMs(inf), 0) + (response.length - 1) * ackMs;
  const fromCardMs = response.reduce((s, inf) => s + p.blockMs(inf), 0) + (command.length - 1) * ackMs;
  const chainGapsMs = 2 * (command.length - 1 + response.length - 1) * p.gapMs;
  // A card busy for longer than its waiting time sends S(WTX request) (one INF byte); the reader echoes it.
  const waitExtensions = Math.max(0, Math.ceil(processingMs / p.waitMs) - 1);
  const wtxMs = waitExtensions * (2 * p.blockMs(1) + 2 * p.gapMs);
  const busyMs = Math.max(processingMs, p.gapMs);
  return {
    blocksToCard: command.length + response.length - 1 + waitExtensions,
    blocksFromCard: response.length + command.length - 1 + waitExtensions,
    toCardMs,
    fromCardMs,
    turnaroundMs: chainGapsMs + p.gapMs, // and the reader's gap before its next command
    processingMs: busyMs,
    waitExtensions,
    totalMs: toCardMs + fromCardMs + chainGapsMs + p.gapMs + busyMs + wtxMs,
  };
}

// --- T=1 ---

function t1Exchange(link: T1Link, commandBytes: number, responseBytes: number, processingMs: number) {
  const etuMs = (link.clocksPerEtu / link.clockHz) * 1000;
  return blockExchange(
    {
      blockMs: (inf) => (T1_PROLOGUE + inf + link.edcBytes) * link.charEtu * etuMs,
      // BGT counts from leading edge to leading edge, and the last character took one period of it.
      gapMs: Math.max(0, link.bgtEtu - link.charEtu) * etuMs,
      toCardInf: link.ifsc,
      fromCardInf: link.ifsd,
      waitMs: link.bwtMs,
    },
    commandBytes,
    responseBytes,
    processingMs,
  );
}

function t1Activation(link: T1Link, atr: Uint8Array) {
  // ATR and PPS run at the initial etu (Fi = 372, Di = 1) with a 12-etu character period; the ATR
  // starts at most 40,000 clock cycles after reset (ISO/IEC 7816-3), taken here in full.
  const initialEtuMs = (372 / link.clockHz) * 1000;
  const initialGapMs = Math.max(0, link.bgtEtu - 12) * initialEtuMs;
  const atrMs = (40_000 / link.clockHz) * 1000 + atr.length * 12 * initialEtuMs;
  // PPS request PPSS PPS0 PPS1 PCK, echoed by the card.
  const ppsMs = link.pps ? 2 * 4 * 12 * initialEtuMs + 2 * initialGapMs : 0;
  // Then the reader announces its IFSD: S(IFS request) and S(IFS response), one INF byte each.
  const etuMs = (link.clocksPerEtu / link.clockHz) * 1000;
  const gapMs = Math.max(0, link.bgtEtu - link.charEtu) * etuMs;
  const ifsMs = 2 * (T1_PROLOGUE + 1 + link.edcBytes) * link.charEtu * etuMs + 2 * gapMs;
  return {
    ms: atrMs + ppsMs + ifsMs,
    detail: `ATR of ${atr.length} bytes${link.pps ? ', PPS' : ''}, S(IFS)`,
  };
}

// --- ISO/IEC 14443-4 over Type A ---

function typeAExchange(link: TypeALink, commandBytes: number, responseBytes: number, processingMs: number) {
  return blockExchange(
    {
      blockMs: (inf) => typeAFrameMs(link, TYPE_A_PROLOGUE + inf + TYPE_A_CRC),
      gapMs: (link.fdtCycles / link.carrierHz) * 1000,
      toCardInf: link.fsc - TYPE_A_PROLOGUE - TYPE_A_CRC,
      fromCardInf: link.fsd - TYPE_A_PROLOGUE - TYPE_A_CRC,
      waitMs: fwtOf(link),
    },
    commandBytes,
    responseBytes,
    processingMs,
  );
}

/** FWT in ms. */
export function fwtOf(link: TypeALink): number {
  return ((256 * 16 * 2 ** link.fwi) / link.carrierHz) * 1000;
}

/**
 * A standard frame: start bit, 9 bits per byte (8 data and odd parity), end bit. The higher bit rates
 * keep the parity bit; their start-of-frame details (a few bit times) are folded into the same two bits.
 */
export function typeAFrameMs(link: TypeALink, bytes: number): number {
  return ((2 + 9 * bytes) * link.cyclesPerBit * 1000) / link.carrierHz;
}

function typeAActivation(link: TypeALink, atr: Uint8Array) {
  // Anticollision runs at 106 kbit/s whatever the link's rate; PPS then switches to it.
  const slow: TypeALink = { ...link, cyclesPerBit: 128 };
  const fdtMs = (link.fdtCycles / link.carrierHz) * 1000;
  const pair = (toCard: number, fromCard: number) =>
    typeAFrameMs(slow, toCard) + typeAFrameMs(slow, fromCard) + 2 * fdtMs;
  const reqaMs = ((2 + 7) * 128 * 1000) / link.carrierHz + typeAFrameMs(slow, 2) + 2 * fdtMs; // 7-bit short frame → ATQA
  const levels = link.uidBytes === 4 ? 1 : link.uidBytes === 7 ? 2 : 3;
  const cascadeMs = levels * (pair(2, 5) + pair(9, 3)); // ANTICOLLISION → UID CLn + BCC; SELECT → SAK + CRC
  // RATS (4 bytes) → ATS: TL T0 TA TB TC, the historical bytes (as in the PC/SC ATR), CRC.
  const historical = historicalBytes(atr);
  const ratsMs = pair(4, 5 + historical + 2);
  const ppsMs = link.cyclesPerBit === 128 ? 0 : pair(5, 3);
  return {
    ms: link.fieldSettleMs + reqaMs + cascadeMs + ratsMs + ppsMs,
    detail: `field ${link.fieldSettleMs} ms, ${levels} cascade level(s), ATS with ${historical} historical bytes${ppsMs ? ', PPS' : ''}`,
  };
}

/** The historical bytes of an ATR (their count is T0's low nibble). */
export function historicalBytes(atr: Uint8Array): number {
  return (atr[1] ?? 0) & 0x0f;
}
