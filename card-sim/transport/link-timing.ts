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
const T1_R_BLOCK_INF = 0;
const T1_S_WTX_INF = 1;
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

// --- T=1 ---

function t1Exchange(link: T1Link, commandBytes: number, responseBytes: number, processingMs: number) {
  const etuMs = (link.clocksPerEtu / link.clockHz) * 1000;
  const block = (inf: number) => (T1_PROLOGUE + inf + link.edcBytes) * link.charEtu * etuMs;
  // The least gap between the last character of a block and the first of the answer: BGT counts from
  // leading edge to leading edge, and the last character already took one character period of it.
  const gapMs = Math.max(0, link.bgtEtu - link.charEtu) * etuMs;
  const rBlock = block(T1_R_BLOCK_INF);
  const command = chunks(commandBytes, link.ifsc);
  const response = chunks(responseBytes, link.ifsd);
  let toCardMs = 0;
  let fromCardMs = 0;
  let turnaroundMs = 0;
  // Command chaining: every I-block but the last is acknowledged by the card with an R-block.
  for (const [i, inf] of command.entries()) {
    toCardMs += block(inf);
    if (i < command.length - 1) {
      fromCardMs += rBlock;
      turnaroundMs += 2 * gapMs;
    }
  }
  // Response chaining: the reader acknowledges every I-block but the last with an R-block.
  for (const [i, inf] of response.entries()) {
    fromCardMs += block(inf);
    if (i < response.length - 1) {
      toCardMs += rBlock;
      turnaroundMs += 2 * gapMs;
    }
  }
  // A card busy for longer than BWT sends S(WTX request) (one INF byte), answered by S(WTX response).
  const waitExtensions = Math.max(0, Math.ceil(processingMs / link.bwtMs) - 1);
  const wtxMs = waitExtensions * (2 * block(T1_S_WTX_INF) + 2 * gapMs);
  const busyMs = Math.max(processingMs, gapMs);
  return {
    blocksToCard: command.length + response.length - 1 + waitExtensions,
    blocksFromCard: response.length + command.length - 1 + waitExtensions,
    toCardMs,
    fromCardMs,
    turnaroundMs: turnaroundMs + gapMs, // and the reader's gap before its next command
    processingMs: busyMs,
    waitExtensions,
    totalMs: toCardMs + fromCardMs + turnaroundMs + gapMs + busyMs + wtxMs,
  };
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
  const frame = (bytes: number) => typeAFrameMs(link, bytes);
  const fdtMs = (link.fdtCycles / link.carrierHz) * 1000;
  const rAck = frame(TYPE_A_PROLOGUE + TYPE_A_CRC);
  const overhead = TYPE_A_PROLOGUE + TYPE_A_CRC;
  const command = chunks(commandBytes, link.fsc - overhead);
  const response = chunks(responseBytes, link.fsd - overhead);
  let toCardMs = 0;
  let fromCardMs = 0;
  let turnaroundMs = 0;
  for (const [i, inf] of command.entries()) {
    toCardMs += frame(inf + overhead);
    if (i < command.length - 1) {
      fromCardMs += rAck;
      turnaroundMs += 2 * fdtMs;
    }
  }
  for (const [i, inf] of response.entries()) {
    fromCardMs += frame(inf + overhead);
    if (i < response.length - 1) {
      toCardMs += rAck;
      turnaroundMs += 2 * fdtMs;
    }
  }
  // A card busy for longer than FWT sends S(WTX) (PCB, WTXM, CRC); the reader echoes it.
  const fwtMs = fwtOf(link);
  const waitExtensions = Math.max(0, Math.ceil(processingMs / fwtMs) - 1);
  const wtxMs = waitExtensions * (2 * frame(TYPE_A_PROLOGUE + 1 + TYPE_A_CRC) + 2 * fdtMs);
  const busyMs = Math.max(processingMs, fdtMs);
  return {
    blocksToCard: command.length + response.length - 1 + waitExtensions,
    blocksFromCard: response.length + command.length - 1 + waitExtensions,
    toCardMs,
    fromCardMs,
    turnaroundMs: turnaroundMs + fdtMs,
    processingMs: busyMs,
    waitExtensions,
    totalMs: toCardMs + fromCardMs + turnaroundMs + fdtMs + busyMs + wtxMs,
  };
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
