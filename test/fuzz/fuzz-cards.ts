// Cards for the fuzzers: one issuer and a handful of personalized card images, made once per run
// (under the run's seeded random, so a seed always makes the same cards), from which every case
// builds fresh simulated cards in memory in microseconds.
import { type SettlementState, settlementStateCodec } from '../../card-sim/applets/settlement/state.js';
import { createIssuer, personalizeCard } from '../../card-sim/issuer/issuer.js';
import type { IssuerState } from '../../card-sim/issuer/issuer-state.js';
import { MemoryBackend } from '../../card-sim/os/persistence-backend.js';
import { createSettlementCard, type SimulatedCard } from '../../card-sim/settlement-card.js';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { randomBytes } from '../../protocol/crypto-suite.js';
import { DEFAULT_NO_PIN_LIMITS } from '../../protocol/settlement/cardholder-policy.js';
import { DEFAULT_CARD, TEST_CURRENCY } from '../support/card-fixtures.js';

/**
 * payer: a customer's purse (PIN 1234), transfer key 1, update key 1.
 * shop: an issuer card (PIN 0000) holding one of its own tickets, transfer key 1, update key 1.
 * newer: a card already on transfer key 2: the sender of every key update.
 * noUpdateKey: transfer key 1 and no update key: takes key 2 by the public-key route.
 * prestored: transfer key 1 with key 2 stored in advance: takes it by the pre-stored switch.
 */
export const TEMPLATE_NAMES = ['payer', 'shop', 'newer', 'noUpdateKey', 'prestored'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

export const PINS: Record<TemplateName, string> = {
  payer: '1234',
  shop: '0000',
  newer: '1234',
  noUpdateKey: '1234',
  prestored: '1234',
};

export interface FuzzFixture {
  issuer: IssuerState;
  templates: Record<TemplateName, SettlementState>;
  /** The unblock code of each card's PIN (the issuer's secret). */
  puks: Record<TemplateName, string>;
  /** Hex ID of the ticket on the shop card. */
  ticketId: string;
}

export interface FuzzCard {
  name: string;
  sim: SimulatedCard;
  backend: MemoryBackend;
  holderId: Uint8Array;
  /** The persisted image, exactly as stored (compared byte for byte). */
  image(): string;
  state(): SettlementState;
}

/** Builds the issuer and the card images; call it under a seeded random for a reproducible run. */
export function buildFixture(): FuzzFixture {
  const now = new Date('2026-01-01T00:00:00Z');
  const issuer = createIssuer({
    name: 'Fuzz Issuer',
    currency: TEST_CURRENCY,
    updateKeys: 3,
    transferKeys: 6,
    now,
  });
  const base = { ...DEFAULT_CARD, now };
  const templates: Record<TemplateName, SettlementState> = {
    // The purse pays under the demo cardholder policy, so sequences meet 9403 and the no-PIN counters.
    payer: personalizeCard(issuer, {
      ...base,
      label: 'Payer',
      pin: PINS.payer,
      balance: 10_000,
      noPinLimits: DEFAULT_NO_PIN_LIMITS,
    }),
    shop: personalizeCard(issuer, {
      ...base,
      label: 'Shop',
      pin: PINS.shop,
      balance: 500,
      issuerCard: true,
    }),
    newer: personalizeCard(issuer, { ...base, label: 'Newer', pin: PINS.newer, transferKeyId: 2 }),
    noUpdateKey: personalizeCard(issuer, {
      ...base,
      label: 'NoUpdateKey',
      pin: PINS.noUpdateKey,
      updateKeyId: 0,
    }),
    prestored: personalizeCard(issuer, {
      ...base,
      label: 'Prestored',
      pin: PINS.prestored,
      prestoredTransferKeyIds: [2],
    }),
  };
  const ticketId = toHex(randomBytes(16));
  templates.shop.contents.push({
    id: ticketId,
    type: 'ticket',
    issuerId: issuer.issuerId,
    policy: 'issuer-alterable',
    label: 'Concert 2026-12-24',
    body: toHex(new TextEncoder().encode('seat B12')),
  });
  const puks = Object.fromEntries(
    TEMPLATE_NAMES.map((name) => {
      const holderId = templates[name].holderId;
      return [name, issuer.issued.find((c) => c.holderId === holderId)!.puk!];
    }),
  ) as Record<TemplateName, string>;
  return { issuer, templates, puks, ticketId };
}

/** A fresh simulated card (powered down) from a template image. */
export function makeFuzzCard(name: string, template: SettlementState): FuzzCard {
  const backend = new MemoryBackend();
  const sim = createSettlementCard({ backend, initial: structuredClone(template) });
  return {
    name,
    sim,
    backend,
    holderId: fromHex(template.holderId),
    image: () => backend.load()!,
    state: () => settlementStateCodec.decode(backend.load()!),
  };
}
