// A real-card latency model: a link (T=1 contact or ISO/IEC 14443 Type A contactless at a bit rate)
// and a chip (how fast it computes and writes). A card wrapped in LatencyCard (latency-card.ts)
// records every APDU it answers, with the bytes each way and the work it did, into a ledger; this
// module turns such records into modelled time under any model, APDU by APDU and flow by flow.
import type { CryptoOperation } from '../../protocol/crypto-suite.js';
import type { CardWork } from '../os/card-work.js';
import {
  type ChipProfile,
  JCOP4_P71,
  PROCESSING_PARTS,
  type ProcessingTiming,
  processingTiming,
} from './chip-timing.js';
import { activationTiming, type ExchangeTiming, exchangeTiming, type LinkModel } from './link-timing.js';

export interface LatencyModel {
  id: string;
  link: LinkModel;
  chip: ChipProfile;
}

const CLOCK_HZ = 3_571_200;
const CARRIER_HZ = 13_560_000;

/** T=1 as the reference card's ATR sets it: N = 255 (11-etu characters), IFSC 254, LRC; default BWI 4. */
const contact = (name: string, clocksPerEtu: number): LinkModel => ({
  kind: 't1',
  name,
  clockHz: CLOCK_HZ,
  clocksPerEtu,
  charEtu: 11,
  bgtEtu: 22,
  ifsc: 254,
  ifsd: 254,
  edcBytes: 1,
  bwtMs: 11 * (clocksPerEtu / CLOCK_HZ) * 1000 + ((2 ** 4 * 960 * 372) / CLOCK_HZ) * 1000,
  pps: clocksPerEtu !== 372,
});

/** Type A with FSC = FSD = 256, FWI 8 (77 ms), a 7-byte UID, 5 ms in the field before REQA. */
const contactless = (name: string, cyclesPerBit: number): LinkModel => ({
  kind: 'type-a',
  name,
  carrierHz: CARRIER_HZ,
  cyclesPerBit,
  fsc: 256,
  fsd: 256,
  fwi: 8,
  fdtCycles: 1172,
  uidBytes: 7,
  fieldSettleMs: 5,
});

export const LINKS = {
  'contact-9600': contact('T=1 contact, 9,600 bit/s', 372),
  'contact-115200': contact('T=1 contact, 115,200 bit/s', 31),
  'contactless-106': contactless('ISO 14443 A, 106 kbit/s', 128),
  'contactless-424': contactless('ISO 14443 A, 424 kbit/s', 32),
} as const satisfies Record<string, LinkModel>;

export type LinkId = keyof typeof LINKS;
export const LINK_IDS = Object.keys(LINKS) as LinkId[];

/** The four models of issue 14 on one chip. */
export function standardModels(chip: ChipProfile = JCOP4_P71): LatencyModel[] {
  return LINK_IDS.map((id) => ({ id, link: LINKS[id], chip }));
}

export function modelById(id: string, chip: ChipProfile = JCOP4_P71): LatencyModel {
  if (!(id in LINKS)) throw new RangeError(`unknown latency model ${id}; one of ${LINK_IDS.join(', ')}`);
  return { id, link: LINKS[id as LinkId], chip };
}

// --- records ---

/** One APDU as a card answered it. */
export interface ApduRecord {
  kind: 'apdu';
  /** Which card (the label given to its LatencyCard). */
  card: string;
  cla: number;
  ins: number;
  commandBytes: number;
  /** Response bytes with the status word; 0 when the card was mute (power lost). */
  responseBytes: number;
  sw: number | undefined;
  work: CardWork;
}

/** A card powered up or reset: a new presence in the field, a new ATR. */
export interface ActivationRecord {
  kind: 'activation';
  card: string;
  atr: Uint8Array;
}

export type LatencyRecord = ApduRecord | ActivationRecord;

export interface ApduTiming {
  link: ExchangeTiming;
  processing: ProcessingTiming;
  /** Link time with the processing inside it. */
  totalMs: number;
}

export function apduTiming(record: ApduRecord, model: LatencyModel): ApduTiming {
  const processing = processingTiming(record.work, model.chip);
  const link = exchangeTiming(model.link, record.commandBytes, record.responseBytes, processing.totalMs);
  return { link, processing, totalMs: link.totalMs };
}

/** Records in order; marks delimit flows. Shared by the cards of one run. */
export class LatencyLedger {
  private readonly items: LatencyRecord[] = [];

  push(record: LatencyRecord): void {
    this.items.push(record);
  }

  /** A position to read from later (see since()). */
  mark(): number {
    return this.items.length;
  }

  /** Every record after `mark`. */
  since(mark: number): LatencyRecord[] {
    return this.items.slice(mark);
  }

  get records(): readonly LatencyRecord[] {
    return this.items;
  }
}

// --- flows ---

export interface CommandTiming {
  card: string;
  cla: number;
  ins: number;
  count: number;
  linkMs: number;
  processingMs: number;
}

export interface FlowTiming {
  model: LatencyModel;
  apdus: number;
  bytesToCard: number;
  bytesFromCard: number;
  activations: number;
  activationMs: number;
  /** Wire time, block gaps and waiting-time extensions: the link's share. */
  transmissionMs: number;
  /** The cards' processing, by kind. */
  processing: ProcessingTiming;
  waitExtensions: number;
  totalMs: number;
  byCommand: CommandTiming[];
  /** What the cards did: crypto primitives by kind, commits of persistent memory and the bytes they wrote. */
  operations: Partial<Record<CryptoOperation, number>>;
  commits: number;
  bytesWritten: number;
}

/** Modelled time of `records` (a flow) under `model`. */
export function flowTiming(records: readonly LatencyRecord[], model: LatencyModel): FlowTiming {
  const processing: ProcessingTiming = {
    commandMs: 0,
    symmetricMs: 0,
    publicKeyMs: 0,
    hashMs: 0,
    randomMs: 0,
    writeMs: 0,
    totalMs: 0,
  };
  const byCommand = new Map<string, CommandTiming>();
  let apdus = 0;
  let bytesToCard = 0;
  let bytesFromCard = 0;
  let activations = 0;
  let activationMs = 0;
  let linkTotalMs = 0;
  let processingOnLinkMs = 0;
  let waitExtensions = 0;
  const operations: Partial<Record<CryptoOperation, number>> = {};
  let commits = 0;
  let bytesWritten = 0;
  for (const r of records) {
    if (r.kind === 'activation') {
      activations++;
      activationMs += activationTiming(model.link, r.atr).ms;
      continue;
    }
    const t = apduTiming(r, model);
    for (const use of r.work.crypto) operations[use.operation] = (operations[use.operation] ?? 0) + 1;
    commits += r.work.commits.length;
    for (const regions of r.work.commits) bytesWritten += regions.reduce((x, y) => x + y, 0);
    apdus++;
    bytesToCard += r.commandBytes;
    bytesFromCard += r.responseBytes;
    linkTotalMs += t.totalMs;
    processingOnLinkMs += t.link.processingMs;
    waitExtensions += t.link.waitExtensions;
    for (const part of PROCESSING_PARTS) processing[part] += t.processing[part];
    processing.totalMs += t.processing.totalMs;
    const key = `${r.card} ${r.cla} ${r.ins}`;
    const c = byCommand.get(key) ?? {
      card: r.card,
      cla: r.cla,
      ins: r.ins,
      count: 0,
      linkMs: 0,
      processingMs: 0,
    };
    c.count++;
    c.linkMs += t.totalMs - t.link.processingMs;
    c.processingMs += t.link.processingMs;
    byCommand.set(key, c);
  }
  // The link's total holds the processing (or the least gap, where processing is shorter).
  const transmissionMs = linkTotalMs - processingOnLinkMs;
  return {
    model,
    apdus,
    bytesToCard,
    bytesFromCard,
    activations,
    activationMs,
    transmissionMs,
    processing,
    waitExtensions,
    totalMs: activationMs + linkTotalMs,
    byCommand: [...byCommand.values()],
    operations,
    commits,
    bytesWritten,
  };
}
