// Where the exploration starts: two genuine cards of one issuer after a day of honest traffic, made
// the same way every time (a seeded issuer; card randoms are a function of card memory).
//
// A is a customer's purse (PIN 1234), B a shop's card (PIN 0000), both under the demo cardholder
// policy (25.00 a payment, 50.00 and three payments without the PIN) and with a maximum balance of
// 120.00. Sixteen honest transfers (each card paying the other eight times, one of them stopped
// before the debit and one paid back by a release) fill all four logs with settled records, so every
// new record evicts the oldest one: replays of evicted transactions are reachable at once. The last
// payment, 24.99 from A, was made without the PIN, so A starts one payment and 24.99 into its no-PIN
// allowance: a payment of 25.00 still passes without the PIN, 25.01 does not, and a second 25.00
// meets the cumulative limit. Both balances end at 60.00.
//
// The recorded pool (what a hostile terminal recorded of that traffic and replays) is four of those
// transactions: R1 the oldest completed A→B (first evicted), R2 the aborted one (its abort proof),
// R3 the refunded one (its release proof), R4 the oldest completed B→A.
import { createIssuer, personalizeCard } from '../../card-sim/issuer/issuer.js';
import { InProcessChannel } from '../../card-sim/transport/in-process-channel.js';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { DEFAULT_NO_PIN_LIMITS, type NoPinLimits } from '../../protocol/settlement/cardholder-policy.js';
import { SettlementClient } from '../../protocol/settlement/settlement-client.js';
import { withSeededRandom } from '../fuzz/seeded-random.js';
import { DEFAULT_CARD, NOW, TEST_CURRENCY } from '../support/card-fixtures.js';
import { ExplorerCard } from './explorer-card.js';
import { type HonestCard, honestTransfer, type TransferEnd } from './honest-terminal.js';
import { SIDES, type Side } from './world-state.js';

export interface RecordedTransaction {
  name: string;
  txRandom: string;
}

export interface ExplorerRoot {
  images: Record<Side, string>;
  holderIds: Record<Side, string>;
  pins: Record<Side, string>;
  puks: Record<Side, string>;
  limits: NoPinLimits;
  /** The transfer key both cards use (the issuer's; the explorer uses it to name MACs, never to send). */
  transferKey: string;
  transferKeyId: number;
  currency: number;
  date: number;
  recorded: RecordedTransaction[];
}

export const ROOT_SEED = 'adversary-explorer-root-1';
const PINS: Record<Side, string> = { A: '1234', B: '0000' };
const MAX_BALANCE = 12_000;

/** Builds the root (about a tenth of a second); the same bytes on every call and in every process. */
export function buildExplorerRoot(): Promise<ExplorerRoot> {
  return withSeededRandom(ROOT_SEED, buildRoot);
}

async function buildRoot(): Promise<ExplorerRoot> {
  const issuer = createIssuer({
    name: 'Explorer Issuer',
    currency: TEST_CURRENCY,
    updateKeys: 1,
    transferKeys: 1,
    now: new Date('2026-01-01T00:00:00Z'),
  });
  const images = {
    A: personalizeCard(issuer, {
      ...DEFAULT_CARD,
      label: 'Customer',
      balance: 8_199,
      maxBalance: MAX_BALANCE,
      pin: PINS.A,
      noPinLimits: DEFAULT_NO_PIN_LIMITS,
    }),
    B: personalizeCard(issuer, {
      ...DEFAULT_CARD,
      label: 'Shop',
      balance: 3_801,
      maxBalance: MAX_BALANCE,
      pin: PINS.B,
      noPinLimits: DEFAULT_NO_PIN_LIMITS,
    }),
  };
  const puk = (side: Side) => issuer.issued.find((c) => c.holderId === images[side].holderId)!.puk!;
  const cards = {} as Record<Side, ExplorerCard>;
  const honest = {} as Record<Side, HonestCard>;
  for (const side of SIDES) {
    const image = JSON.stringify(images[side]);
    cards[side] = new ExplorerCard(images[side].holderId, image, PINS[side]);
    honest[side] = await connect(cards[side], side, puk(side));
  }
  const pay = (from: Side, amount: number, end: TransferEnd = 'complete') =>
    honestTransfer(honest[from], honest[from === 'A' ? 'B' : 'A'], amount, NOW, TEST_CURRENCY, end);

  // The day's traffic, every payment under the owner's PIN but the last.
  for (const side of SIDES) await honest[side].client.verifyPin(PINS[side]);
  const recorded: RecordedTransaction[] = [];
  const record = async (name: string, v: Promise<{ txRandom?: Uint8Array }>) =>
    recorded.push({ name, txRandom: toHex((await v).txRandom!) });
  await record('R1', pay('A', 100));
  await record('R2', pay('A', 100, 'aborted'));
  await record('R3', pay('A', 100, 'refunded'));
  await record('R4', pay('B', 100));
  for (let i = 0; i < 4; i++) await pay('A', 100);
  for (let i = 0; i < 7; i++) await pay('B', 100);
  honest.A = await connect(cards.A, 'A', puk('A')); // a new card session: no owner level
  await pay('A', 2_499);

  const key = issuer.transferKeys['1']!;
  return {
    images: { A: cards.A.image, B: cards.B.image },
    holderIds: { A: images.A.holderId, B: images.B.holderId },
    pins: PINS,
    puks: { A: puk('A'), B: puk('B') },
    limits: DEFAULT_NO_PIN_LIMITS,
    transferKey: key,
    transferKeyId: 1,
    currency: TEST_CURRENCY,
    date: NOW,
    recorded,
  };
}

async function connect(card: ExplorerCard, side: Side, puk: string): Promise<HonestCard> {
  const client = new SettlementClient(await InProcessChannel.connect(card.os));
  await client.select();
  return { name: side, client, holderId: fromHex(card.holderId), pin: PINS[side], puk };
}
