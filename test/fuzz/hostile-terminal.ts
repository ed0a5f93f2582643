// A terminal under test whose two cards are hostile cards (card-sim/hostile): real cards behind a
// proxy that lies when armed. Slowness is the reader's: a slow card is a reader timeout, made with
// the simulated slots' faults on the same command.
import { HostileCard, type Misbehaviour } from '../../card-sim/hostile/hostile-card.js';
import { createIssuer, type PersonalizeOptions, personalizeCard } from '../../card-sim/issuer/issuer.js';
import type { IssuerState } from '../../card-sim/issuer/issuer-state.js';
import { MemoryBackend } from '../../card-sim/os/persistence-backend.js';
import { createSettlementCard } from '../../card-sim/settlement-card.js';
import { ContentEngine } from '../../electron/services/contents/content-engine.js';
import { SLOT_NAMES, type SlotName } from '../../electron/services/slots/reader-slots.js';
import { INS } from '../../protocol/settlement/commands.js';
import type { ContentItem } from '../../protocol/settlement/contents-codec.js';
import { DEFAULT_CARD, TEST_CURRENCY } from '../support/card-fixtures.js';
import { createUnderRight } from '../support/content-fixtures.js';
import { makeTerminal, type TerminalUnderTest } from '../support/terminal-fixtures.js';

export const SLOW = ['slow-before-card', 'slow-after-card'] as const;
export type HostileKind = Misbehaviour | (typeof SLOW)[number];

/** A command of a flow: its name, INS (CLA 80) and the slot of the card it goes to. */
export type FlowCommand = readonly [name: string, ins: number, slot: SlotName];

export const TRANSFER_COMMANDS: readonly FlowCommand[] = [
  ['INITIATE DEBIT', INS.INITIATE_DEBIT, 'payer'],
  ['INITIATE CREDIT', INS.INITIATE_CREDIT, 'payee'],
  ['DEBIT', INS.DEBIT, 'payer'],
  ['CREDIT', INS.CREDIT, 'payee'],
  ['ACKNOWLEDGE DEBIT', INS.ACKNOWLEDGE_DEBIT, 'payer'],
];
/** Payer (receiver) on transfer key 1, payee (sender) on key 2, both on update key 1: common-key route. */
export const KEY_UPDATE_COMMANDS: readonly FlowCommand[] = [
  ['BEGIN KEY UPDATE', INS.BEGIN_KEY_UPDATE, 'payer'],
  ['EXPORT TRANSFER KEY', INS.EXPORT_TRANSFER_KEY, 'payee'],
  ['APPLY KEY UPDATE', INS.APPLY_KEY_UPDATE, 'payer'],
];
/** The shop's card (payee) gives a ticket to the customer's (payer). */
export const TRANSMISSION_COMMANDS: readonly FlowCommand[] = [
  ['CONTENT SEND', INS.CONTENT_SEND, 'payee'],
  ['CONTENT RECEIVE', INS.CONTENT_RECEIVE, 'payer'],
  ['CONTENT COMMIT', INS.CONTENT_COMMIT, 'payee'],
  ['CONTENT ACCEPT', INS.CONTENT_ACCEPT, 'payer'],
  ['CONTENT ACKNOWLEDGE', INS.CONTENT_ACKNOWLEDGE, 'payee'],
];
/** The customer (payer) buys the shop's ticket. X: the payment, Y: the ticket. */
export const EXCHANGE_COMMANDS: readonly FlowCommand[] = [
  ['X SEND', INS.CONTENT_SEND, 'payer'],
  ['X RECEIVE', INS.CONTENT_RECEIVE, 'payee'],
  ['Y SEND', INS.CONTENT_SEND, 'payee'],
  ['Y RECEIVE', INS.CONTENT_RECEIVE, 'payer'],
  ['X COMMIT', INS.CONTENT_COMMIT, 'payer'],
  ['X ACCEPT', INS.CONTENT_ACCEPT, 'payee'],
  ['Y ACCEPT', INS.CONTENT_ACCEPT, 'payer'],
  ['Y ACKNOWLEDGE', INS.CONTENT_ACKNOWLEDGE, 'payee'],
];

export interface HostileTerminal extends TerminalUnderTest {
  hostile: Record<SlotName, HostileCard>;
  contents: ContentEngine;
}

let sharedIssuer: IssuerState | undefined;
/** One issuer for all hostile terminals of a test file: its CA key is the slow part to make. */
function issuer(): IssuerState {
  sharedIssuer ??= createIssuer({
    name: 'Hostile Test',
    currency: TEST_CURRENCY,
    updateKeys: 3,
    transferKeys: 6,
    now: new Date('2026-01-01T00:00:00Z'),
  });
  return sharedIssuer;
}

export function makeHostileTerminal(o: Parameters<typeof makeTerminal>[0] = {}): HostileTerminal {
  // A short waiting time: a slow card times out quickly. Simulated cards answer synchronously, so an
  // honest command never comes near it.
  const t = makeTerminal({ issuer: issuer(), waitingTimeMs: 40, ...o });
  const hostile = {
    payer: new HostileCard(t.cards.payer.os, { seed: 11 }),
    payee: new HostileCard(t.cards.payee.os, { seed: 17 }),
  };
  for (const slot of SLOT_NAMES) {
    t.slots.remove(slot);
    t.slots.insert(slot, hostile[slot]);
  }
  const contents = new ContentEngine(t.engine, { journal: t.journal, flows: t.flows, slots: t.slots });
  return { ...t, hostile, contents };
}

/**
 * Makes the card in `slot` misbehave once, on the `nth` next command with this INS (CLA 80).
 * Returns a function telling whether it did.
 */
export function armOnce(
  t: HostileTerminal,
  slot: SlotName,
  ins: number,
  kind: HostileKind,
  nth = 1,
): () => boolean {
  if (kind === 'slow-before-card' || kind === 'slow-after-card') {
    let seen = 0;
    let fired = false;
    const once = (apdu: Uint8Array) => {
      if (fired || apdu[0] !== 0x80 || apdu[1] !== ins || ++seen !== nth) return false;
      fired = true;
      return true;
    };
    if (kind === 'slow-before-card') t.slots.stall(slot, { when: once });
    else t.slots.stallAfterCard(slot, { when: once });
    return () => fired;
  }
  const card = t.hostile[slot];
  const before = card.fired;
  card.arm({ ins, nth, misbehaviour: kind });
  return () => card.fired === before + 1;
}

/** The cards turn honest and are presented again. */
export function honestAgain(t: HostileTerminal): void {
  for (const slot of SLOT_NAMES) {
    t.hostile[slot].disarm();
    t.slots.clearFaults(slot);
    if (!t.slots.card(slot)) t.slots.insert(slot, t.hostile[slot]);
  }
}

/**
 * Puts a new hostile card, personalized by the terminal's issuer, into a slot (the old one is pulled,
 * and the engine given the moment it takes to close its session with it).
 */
export async function swapCard(
  t: HostileTerminal,
  slot: SlotName,
  o: Partial<PersonalizeOptions>,
  seed = 23,
): Promise<HostileCard> {
  const card = createSettlementCard({
    backend: new MemoryBackend(),
    initial: personalizeCard(t.issuer, { ...DEFAULT_CARD, ...o }),
  });
  const hostile = new HostileCard(card.os, { seed });
  t.slots.remove(slot);
  await new Promise((resolve) => setTimeout(resolve, 0));
  t.slots.insert(slot, hostile);
  t.cards[slot] = card;
  t.hostile[slot] = hostile;
  return hostile;
}

/** CREATE CONTENT on the card in `slot` under a create right signed by the issuer's authority. */
export async function issueTo(t: HostileTerminal, slot: SlotName, item: ContentItem): Promise<void> {
  await t.engine.withCards(async (cards) => {
    const s = await cards.session(slot);
    await createUnderRight(t.issuer, s.client, s.info.holderId, cards.now(), item);
  });
}
