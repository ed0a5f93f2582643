// The demo shop's terminal behind its IPC handlers, in process: a fresh demo environment (cards, tray
// cards, operators at a test PIN cost), the real services on simulated slots, the card tray, the
// issuing through the demo's issuer host served in this process, and dispatch() as a transport calls it, with the screen each call comes from.
// For the IPC tests of the shop's channels: what a hostile screen sends goes through exactly this.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCard } from '../../card-sim/card-files.js';
import type { SimulatedCard } from '../../card-sim/settlement-card.js';
import { ensureDemoEnvironment, UNBLOCK_CODES_FILE } from '../../demo/demo-environment.js';
import type { Channel, RequestOf, ResponseOf, Result } from '../../electron/ipc/contract.js';
import {
  createHandlers,
  dispatch,
  type HandlerServices,
  type Handlers,
} from '../../electron/ipc/handlers.js';
import { loadConfig, type TerminalConfig } from '../../electron/services/config.js';
import { createCardTray } from '../../electron/services/slots/card-tray.js';
import { createSimulatedSlots, type SimulatedSlots } from '../../electron/services/slots/simulated-slots.js';
import { startTerminalServices, type TerminalServices } from '../../electron/services/terminal-services.js';
import { TEST_PIN_COST } from '../ui/support/operator-fixture.js';
import { type DemoIssuing, lazyDemoIssuing } from './demo-issuing.js';

export const PIN = { alice: '1234', shop: '0000', casey: '1111', sam: '9999' } as const;

export interface ShopTerminal {
  dir: string;
  config: TerminalConfig;
  services: TerminalServices;
  slots: SimulatedSlots;
  cards: Record<string, SimulatedCard>;
  issuing: DemoIssuing;
  handlers: Handlers;
  /** The desk's clock: move it to make the idle lock run out. */
  clock: { now: number };
  /** A call from a screen, as a transport makes it (validated, admitted, dispatched). */
  call<C extends Channel>(screen: string, channel: C, payload: RequestOf<C>): Promise<Result<ResponseOf<C>>>;
  /** Like call(), but throws the error result: for the steps a test only sets up. */
  ok<C extends Channel>(screen: string, channel: C, payload: RequestOf<C>): Promise<ResponseOf<C>>;
  signIn(operator: 'casey' | 'sam'): Promise<void>;
  balances(): { alice: number; shop: number };
  /** The issuer's unblock code of a demo card, by its holder's label. */
  unblockCode(label: string): string;
  close(): Promise<void>;
}

export async function startShopTerminal(
  o: { handlers?: (s: HandlerServices) => HandlerServices } = {},
): Promise<ShopTerminal> {
  const dir = mkdtempSync(join(tmpdir(), 'shop-terminal-'));
  const config = loadConfig(ensureDemoEnvironment(dir, { operatorPinCost: TEST_PIN_COST }));
  if (config.slots.backend !== 'simulated') throw new Error('the demo uses simulated slots');
  const slots = createSimulatedSlots({ waitingTimeMs: 2000 });
  const cards: Record<string, SimulatedCard> = {};
  const held: { release(): void }[] = [];
  for (const c of config.slots.tray ?? []) {
    const h = openCard(c.file);
    held.push(h);
    cards[c.id] = h.card;
  }
  slots.insert('payer', cards.alice!.os);
  slots.insert('payee', cards.shop!.os);
  const tray = createCardTray(
    slots,
    (config.slots.tray ?? []).map((c) => ({ id: c.id, label: c.label, note: c.note, card: cards[c.id]!.os })),
  );
  const clock = { now: Date.parse('2026-11-21T10:00:00Z') };
  const services = await startTerminalServices(config, { slots, desk: { now: () => clock.now } });
  const issuing = lazyDemoIssuing({ demoDir: dir, engine: services.engine, config });
  const base: HandlerServices = { ...services, tray, issuing: issuing.port };
  const handlers = createHandlers(o.handlers ? o.handlers(base) : base);
  const call = async <C extends Channel>(screen: string, channel: C, payload: RequestOf<C>) =>
    (await dispatch(handlers, channel, payload, { screen })) as Result<ResponseOf<C>>;
  const ok = async <C extends Channel>(screen: string, channel: C, payload: RequestOf<C>) => {
    const r = await call(screen, channel, payload);
    if (!r.ok) throw new Error(`${channel}: ${r.error.code} ${r.error.message}`);
    return r.value;
  };
  const codes = JSON.parse(readFileSync(join(dir, UNBLOCK_CODES_FILE), 'utf8')) as Record<string, string>;
  return {
    dir,
    config,
    services,
    slots,
    cards,
    issuing,
    handlers,
    clock,
    call,
    ok,
    async signIn(operator) {
      await ok('setup', 'operator:sign-in', { operatorId: operator, pin: PIN[operator] });
    },
    balances: () => ({ alice: cards.alice!.store.read().balance, shop: cards.shop!.store.read().balance }),
    unblockCode: (label) => codes[label]!,
    async close() {
      await issuing.close();
      await services.close();
      for (const h of held) h.release();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
