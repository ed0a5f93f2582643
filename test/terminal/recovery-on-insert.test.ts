// Issue 13 §4, through a host's own wiring: the browser host's startWebTerminal() (the services, the
// recovery surface's start-up pass and its pass on every card insertion) over the demo shop's card
// files. An exchange (a ticket bought with e-money) whose shop card is pulled after the customer's
// commit is finished when the card is put back: later, or in the same instant it was pulled, while
// the exchange still holds the engine (the insertion pass is refused busy and retried, never dropped).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { settlementStateCodec } from '../../card-sim/applets/settlement/state.js';
import { loadIssuer } from '../../card-sim/issuer/issuer.js';
import { FileBackend } from '../../card-sim/os/persistence-backend.js';
import { DEMO_PINS, ensureDemoEnvironment } from '../../demo/demo-environment.js';
import { startWebTerminal, type WebTerminal } from '../../electron/host/start-web.js';
import { loadConfig } from '../../electron/services/config.js';
import type { RecoveryEvent } from '../../electron/services/recovery/terminal-recovery.js';
import type { SimulatedSlots } from '../../electron/services/slots/simulated-slots.js';
import { isTerminalError } from '../../protocol/errors.js';
import { INS } from '../../protocol/settlement/commands.js';
import type { VirtualCard } from '../../protocol/virtual-card.js';
import { ticket } from '../support/content-fixtures.js';

const PRICE = 1500;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The demo shop with a ticket on the shop's card, run by the browser host's wiring. */
async function shop() {
  const dir = mkdtempSync(join(tmpdir(), 'recovery-on-insert-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const config = loadConfig(ensureDemoEnvironment(join(dir, 'demo'), { say: () => undefined }));
  if (config.slots.backend !== 'simulated') throw new Error('the demo uses simulated cards');
  const files = config.slots.cards;
  const shopFile = files.payee;
  const backend = new FileBackend(shopFile);
  const state = settlementStateCodec.decode(backend.load()!);
  const item = ticket(loadIssuer(join(dir, 'demo', 'issuer.json')));
  state.contents.push({ ...item });
  backend.store(settlementStateCodec.encode(state));
  const web: WebTerminal = await startWebTerminal({ config: { ...config, waitingTimeMs: 1000 } });
  cleanups.push(() => web.close());
  const { services } = web;
  const events: RecoveryEvent[] = [];
  services.recovery.on((e) => events.push(e));
  // Count the passes the busy engine turned away.
  let busyRefusals = 0;
  const withCards = services.engine.withCards.bind(services.engine);
  services.engine.withCards = (work) =>
    withCards(work).catch((e: unknown) => {
      if (isTerminalError(e, 'E_BUSY')) busyRefusals++;
      throw e;
    });
  const slots = services.slots as SimulatedSlots;
  const cards = { payer: slots.card('payer')!, payee: slots.card('payee')! };
  const cardFile = (slot: 'payer' | 'payee') =>
    settlementStateCodec.decode(new FileBackend(files[slot]).load()!);
  await services.engine.login('payer', DEMO_PINS.payer);
  await services.contents.authenticate();
  return { web, services, slots, cards, item, events, cardFile, busyRefusals: () => busyRefusals };
}

/** Pulls the shop's card instead of its first CONTENT ACCEPT (after the customer's commit). */
function pullShopCardAtAccept(
  slots: SimulatedSlots,
  card: VirtualCard,
  then: 'stay-out' | 'put-back-at-once',
): void {
  const transmit = card.transmit.bind(card);
  let pulled = false;
  card.transmit = (apdu) => {
    if (pulled || apdu[1] !== INS.CONTENT_ACCEPT) return transmit(apdu);
    pulled = true;
    slots.remove('payee');
    if (then === 'put-back-at-once') slots.insert('payee', card);
    return new Uint8Array(0);
  };
}

const buy = (s: Awaited<ReturnType<typeof shop>>) =>
  s.services.contents.exchange({
    initiator: 'payer',
    give: { amount: PRICE },
    take: { itemId: s.item.id },
  });

describe('an exchange interrupted after the first commit (issue 13 §4)', () => {
  it('is finished when the shop card is put back, by the host’s recovery on insertion', async () => {
    const s = await shop();
    pullShopCardAtAccept(s.slots, s.cards.payee, 'stay-out');
    const outcome = await buy(s);
    expect(outcome).toMatchObject({ status: 'interrupted', recovery: 'waiting' });
    // The customer paid; the ticket is in transfer; the open exchange is listed with what an issuer needs.
    expect(s.cardFile('payer').balance).toBe(200_00 - PRICE);
    const [open] = s.services.recovery.inDoubt().contents;
    expect(open).toMatchObject({
      kind: 'content-exchange',
      gives: { amount: PRICE },
      takes: { itemId: s.item.id },
      committed: true,
    });
    expect(open!.txId).toMatch(/^[0-9A-F]{32}$/);

    s.slots.insert('payee', s.cards.payee);
    await s.services.recovery.settled();
    expect(s.events).toContainEqual(expect.objectContaining({ type: 'run', trigger: 'card-inserted' }));
    expect(s.events.filter((e) => e.type === 'error')).toEqual([]);
    expect(s.services.recovery.inDoubt()).toEqual({ transfers: [], deliveries: [], contents: [] });
    expect(s.cardFile('payer').contents.map((i) => i.id)).toEqual([s.item.id]);
    expect(s.cardFile('payee').balance).toBe(50_00 + PRICE);
    expect(s.services.flows.openFlows()).toEqual([]);
  });

  it('put back in the same instant: the insertion pass finds the engine busy, waits and runs', async () => {
    const s = await shop();
    pullShopCardAtAccept(s.slots, s.cards.payee, 'put-back-at-once');
    const outcome = await buy(s);
    expect(outcome.status).toBe('interrupted');
    await s.services.recovery.settled();
    // The card came back while the exchange still held the engine: turned away, then run.
    expect(s.busyRefusals()).toBeGreaterThan(0);
    expect(s.events).toContainEqual(expect.objectContaining({ type: 'run', trigger: 'card-inserted' }));
    expect(s.events.filter((e) => e.type === 'error')).toEqual([]);
    expect(s.services.recovery.inDoubt()).toEqual({ transfers: [], deliveries: [], contents: [] });
    expect(s.cardFile('payer').contents.map((i) => i.id)).toEqual([s.item.id]);
    expect([s.cardFile('payer').balance, s.cardFile('payee').balance]).toEqual([
      200_00 - PRICE,
      50_00 + PRICE,
    ]);
  });

  it('a pass on insertion that fails is reported, not swallowed', async () => {
    const s = await shop();
    s.slots.remove('payee');
    s.slots.stall('payee');
    s.slots.insert('payee', s.cards.payee);
    await s.services.recovery.settled();
    expect(s.events).toContainEqual(
      expect.objectContaining({
        type: 'error',
        trigger: 'card-inserted',
        error: expect.objectContaining({ code: 'E_TRANSPORT_TIMEOUT' }),
      }),
    );
  });
});
