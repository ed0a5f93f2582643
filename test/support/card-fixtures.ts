// Test fixtures: an issuer made fresh per test run and simulated cards in memory, reached through
// the in-process transport with the same SettlementClient the terminal uses.

import type { SettlementState } from '../../card-sim/applets/settlement/state.js';
import { createIssuer, type PersonalizeOptions, personalizeCard } from '../../card-sim/issuer/issuer.js';
import type { IssuerState } from '../../card-sim/issuer/issuer-state.js';
import { MemoryBackend } from '../../card-sim/os/persistence-backend.js';
import { createSettlementCard, type SimulatedCard } from '../../card-sim/settlement-card.js';
import { InProcessChannel } from '../../card-sim/transport/in-process-channel.js';
import { fromHex } from '../../protocol/bytes.js';
import { DEFAULT_NO_PIN_LIMITS } from '../../protocol/settlement/cardholder-policy.js';
import { SettlementClient } from '../../protocol/settlement/settlement-client.js';
import { unixSeconds } from '../../protocol/settlement/validity-date.js';

export const TEST_CURRENCY = 978; // EUR
export const NOW = unixSeconds(new Date('2026-11-21T10:00:00Z'));

let sharedIssuer: IssuerState | undefined;
/** One issuer per test file: CA key generation is the slow part. */
export function testIssuer(): IssuerState {
  sharedIssuer ??= createIssuer({
    name: 'Test Issuer',
    currency: TEST_CURRENCY,
    updateKeys: 3,
    transferKeys: 6,
    now: new Date('2026-01-01T00:00:00Z'),
  });
  return sharedIssuer;
}

export const DEFAULT_CARD: PersonalizeOptions = {
  validity: '20301231',
  balance: 10_000,
  maxBalance: 100_000,
  transferKeyId: 1,
  transferKeyIdLimit: 5,
  updateKeyId: 1,
  updateKeyIdLimit: 3,
  now: new Date('2026-01-01T00:00:00Z'),
  pin: '1234',
  // The demo policy (25.00 a payment, 50.00 and three payments without the PIN): flows above it log
  // in with TEST_PIN first, as a terminal asks the holder to (cardholder-policy tests set their own).
  noPinLimits: DEFAULT_NO_PIN_LIMITS,
};
export const TEST_PIN = '1234';

export interface TestCard {
  sim: SimulatedCard;
  backend: MemoryBackend;
  client: SettlementClient;
  holderId: Uint8Array;
  state(): SettlementState;
  /** Power-cycles the card (memory survives) and selects the applet again. */
  reinsert(): Promise<void>;
}

export async function makeCard(
  overrides: Partial<PersonalizeOptions> = {},
  issuer = testIssuer(),
): Promise<TestCard> {
  const initial = personalizeCard(issuer, { ...DEFAULT_CARD, ...overrides });
  const backend = new MemoryBackend();
  const sim = createSettlementCard({ backend, initial });
  const card: TestCard = {
    sim,
    backend,
    client: new SettlementClient(await InProcessChannel.connect(sim.os)),
    holderId: fromHex(initial.holderId),
    state: () => sim.store.read(),
    async reinsert() {
      sim.os.powerDown();
      card.client = new SettlementClient(await InProcessChannel.connect(sim.os));
      await card.client.select();
    },
  };
  await card.client.select();
  return card;
}

export async function makePair(
  payer: Partial<PersonalizeOptions> = {},
  payee: Partial<PersonalizeOptions> = {},
): Promise<{ a: TestCard; b: TestCard }> {
  return { a: await makeCard(payer), b: await makeCard(payee) };
}

/** Runs the four steps of Fig. 4 plus the acknowledgement; returns every value exchanged. */
export async function transfer(a: TestCard, b: TestCard, amount: number, date = NOW) {
  const debit = await a.client.initiateDebit({
    counterpartId: b.holderId,
    currency: TEST_CURRENCY,
    amount,
    date,
  });
  const { txRandom, debitProof } = debit;
  const { rxRandom, challenge } = await b.client.initiateCredit(
    { counterpartId: a.holderId, currency: TEST_CURRENCY, amount, date },
    debit,
  );
  const reception = await a.client.debit(txRandom, rxRandom, challenge);
  const ack = await b.client.credit(txRandom, reception);
  await a.client.acknowledgeDebit(txRandom, ack);
  return { txRandom, debitProof, rxRandom, challenge, reception, ack };
}

const termsFor = (counterpart: TestCard, amount: number, date: number) => ({
  counterpartId: counterpart.holderId,
  currency: TEST_CURRENCY,
  amount,
  date,
});

/** INITIATE DEBIT and INITIATE CREDIT only: an open debit on `a`, a pending credit on `b`. */
export async function openTransfer(a: TestCard, b: TestCard, amount: number, date = NOW) {
  const debit = await a.client.initiateDebit(termsFor(b, amount, date));
  const credit = await b.client.initiateCredit(termsFor(a, amount, date), debit);
  return { debit, ...credit, txRandom: debit.txRandom };
}

/** Up to DEBIT: the value has left `a`, and `b` holds it pending (an interrupted transfer). */
export async function transferUpToDebit(a: TestCard, b: TestCard, amount: number, date = NOW) {
  const t = await openTransfer(a, b, amount, date);
  const reception = await a.client.debit(t.txRandom, t.rxRandom, t.challenge);
  return { ...t, reception };
}

/** A hostile terminal's own channel to a card (out of any honest terminal's readers), applet selected. */
export async function hostileReader(card: TestCard): Promise<SettlementClient> {
  const client = new SettlementClient(await InProcessChannel.connect(card.sim.os));
  await client.select();
  return client;
}
