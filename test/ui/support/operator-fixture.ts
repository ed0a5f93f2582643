// One operator screen for a UI test file: a fresh demo shop (issuer, Alice's and the Corner Shop's
// cards, the tray's demo cards, the two demo operators), the terminal services on simulated slots with
// the demo card tray and issuing through the demo's issuer host, the browser host in this process serving the renderer
// built from the current sources, and headless Debian Chromium driven by playwright-core. The page is
// signed in (as the supervisor, unless the test says otherwise). Screenshots go to
// test-output/screenshots/ (git-ignored) at 1280×800, 1024×768 and 1920×1080.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium, type Locator, type Page, type WebSocketRoute } from 'playwright-core';
import { type SettlementState, settlementStateCodec } from '../../../card-sim/applets/settlement/state.js';
import { loadCardState, openCard } from '../../../card-sim/card-files.js';
import { FileBackend } from '../../../card-sim/os/persistence-backend.js';
import type { SimulatedCard } from '../../../card-sim/settlement-card.js';
import { ensureDemoEnvironment } from '../../../demo/demo-environment.js';
import { type BrowserHost, startBrowserHost } from '../../../electron/host/browser-host.js';
import type { EventName, EventOf } from '../../../electron/ipc/contract.js';
import { createHandlers, type KioskControl } from '../../../electron/ipc/handlers.js';
import { loadConfig, type TerminalConfig } from '../../../electron/services/config.js';
import { DEMO_OPERATOR_PINS } from '../../../electron/services/operators/demo-operators.js';
import { createCardTray } from '../../../electron/services/slots/card-tray.js';
import {
  createSimulatedSlots,
  type SimulatedSlots,
} from '../../../electron/services/slots/simulated-slots.js';
import {
  startTerminalServices,
  type TerminalServices,
} from '../../../electron/services/terminal-services.js';
import { type DemoIssuing, lazyDemoIssuing } from '../../support/demo-issuing.js';
import { expectAccessible } from './accessibility.js';
import { builtRenderer } from './built-renderer.js';
import { layoutProblems } from './layout-check.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
export const SHOTS = join(ROOT, 'test-output', 'screenshots');
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const SIZES = [
  [1280, 800],
  [1024, 768],
  [1920, 1080],
] as const;
/** The demo operators' PINs are hashed at a test cost (the real one takes seconds per check here). */
export const TEST_PIN_COST = { logN: 10, r: 8, p: 1 } as const;

export type CardSlot = 'payer' | 'payee';

export interface OperatorFixture {
  demoDir: string;
  config: TerminalConfig;
  services: TerminalServices;
  slots: SimulatedSlots;
  cards: Record<CardSlot, SimulatedCard>;
  /** Every demo card of the tray by its ID (alice and shop are the slot cards above). */
  trayCards: Record<string, SimulatedCard>;
  /** Issuing through the demo's issuer host, served in this process on first use. */
  issuing: DemoIssuing;
  host: BrowserHost;
  context: BrowserContext;
  page: Page;
  /** Requests the page made to any host but the terminal's own (there must be none). */
  remoteRequests: string[];
  byTest(id: string): Locator;
  insert(slot: CardSlot): void;
  /** Signs in on the page's sign-in screen and waits for the terminal. */
  signIn(page?: Page, operatorId?: string, pin?: string): Promise<void>;
  /** A second tab of the same browser on the same address (its own screen for the terminal). */
  newTab(): Promise<Page>;
  /**
   * Pushes a contract event to the page as if the terminal sent it (events the browser host has no
   * source for, such as the Electron shell's kiosk-exit-requested). Needs `routeEvents`.
   */
  pushEvent<E extends EventName>(event: E, payload: EventOf<E>): Promise<void>;
  /**
   * A screenshot at each size, then back to 1280×800; throws if the layout check finds a problem or
   * the accessibility check (axe-core) a serious or critical violation.
   */
  shoot(name: string): Promise<void>;
  close(): Promise<void>;
}

export interface FixtureOptions {
  /** Change the demo cards' files before the cards are opened (contents, PIN tries...). */
  prepareCards?: (edit: (slot: CardSlot, change: (s: SettlementState) => void) => void) => void;
  /** Leave the slots empty: the test inserts the cards. Default: both cards in. */
  empty?: boolean;
  /** Change the demo terminal's configuration (a CRL distribution point...). */
  configure?: (config: TerminalConfig) => TerminalConfig;
  /** A kiosk lock for the contract's kiosk channels, as the Electron shell would give. */
  kiosk?: KioskControl;
  /** Route the page's WebSocket through Playwright so that pushEvent() can add frames. */
  routeEvents?: boolean;
  /**
   * Route the page's WebSocket through Playwright and drop every frame from the terminal while this
   * says true: a link that stays open but carries nothing (a half-open connection, a hung host).
   */
  silenceTerminal?: () => boolean;
  /** Who signs in on the page at start (default sam, the supervisor); false: no one. */
  operator?: 'casey' | 'sam' | false;
  /** The operator desk's clock (the idle lock), in ms. */
  deskNow?: () => number;
  /**
   * Start the demo issuer host before the page opens, not on first use. For a file that issues from
   * the screen: the host's in-memory PGlite blocks this process for seconds as it starts, longer than
   * the screen waits for an answer to its pings, so a lazy start mid-test drops the screen's link and
   * the answer with it (E_DISCONNECTED on the screen, though the card got the item).
   */
  issuingAtStart?: boolean;
}

/**
 * A screenshot of `page` at each size, then back to 1280×800; throws if the layout check finds a
 * problem or the accessibility check (axe-core) a serious or critical violation.
 */
export async function shootPage(page: Page, name: string): Promise<void> {
  const problems: string[] = [];
  for (const [width, height] of SIZES) {
    await page.setViewportSize({ width, height });
    await page.screenshot({ path: join(SHOTS, `${name}-${width}x${height}.png`) });
    for (const p of await layoutProblems(page)) problems.push(`${width}x${height}: ${p}`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  if (problems.length > 0) throw new Error(`layout of ${name}:\n${problems.join('\n')}`);
  await expectAccessible(page, name);
}

export async function startOperatorScreen(o: FixtureOptions = {}): Promise<OperatorFixture> {
  const staticDir = await builtRenderer();
  mkdirSync(SHOTS, { recursive: true });
  const demoDir = mkdtempSync(join(tmpdir(), 'ui-demo-'));
  const profileDir = mkdtempSync(join(tmpdir(), 'ui-chromium-'));
  // The terminal's services run without the demo's issuer host (a test that wants a CRL address
  // configures one); issuing reaches the demo host served in this process on first use.
  const demoConfig = loadConfig(ensureDemoEnvironment(demoDir, { operatorPinCost: TEST_PIN_COST }));
  const loaded = { ...demoConfig, host: undefined };
  const config = o.configure ? o.configure(loaded) : loaded;
  if (config.slots.backend !== 'simulated') throw new Error('the demo uses simulated slots');
  const files = config.slots.cards;
  o.prepareCards?.((slot, change) => {
    const state = loadCardState(files[slot]);
    change(state);
    new FileBackend(files[slot]).store(settlementStateCodec.encode(state));
  });
  const slots = createSimulatedSlots({ waitingTimeMs: 2000 });
  // This process holds the card files while the screen runs, as a host's openSimulatedCard does.
  const held = { payer: openCard(files.payer), payee: openCard(files.payee) };
  const cards = { payer: held.payer.card, payee: held.payee.card };
  const insert = (slot: CardSlot) => slots.insert(slot, cards[slot].os);
  if (!o.empty) {
    insert('payer');
    insert('payee');
  }
  // Each demo card opened once: the tray's slot cards are the ones above.
  const trayCards: Record<string, SimulatedCard> = {};
  const heldTray: { release(): void }[] = [];
  for (const c of config.slots.tray ?? []) {
    if (c.file === files.payer || c.file === files.payee) {
      trayCards[c.id] = c.file === files.payer ? cards.payer : cards.payee;
      continue;
    }
    const h = openCard(c.file);
    heldTray.push(h);
    trayCards[c.id] = h.card;
  }
  const tray = createCardTray(
    slots,
    (config.slots.tray ?? []).map((c) => ({
      id: c.id,
      label: c.label,
      note: c.note,
      card: trayCards[c.id]!.os,
    })),
  );
  const services = await startTerminalServices(config, { slots, desk: { now: o.deskNow } });
  const issuing = lazyDemoIssuing({
    demoDir,
    engine: services.engine,
    config: { ...config, host: demoConfig.host },
  });
  const shopServices = { ...services, tray, issuing: issuing.port };
  let host: BrowserHost | undefined;
  let context: BrowserContext;
  try {
    if (o.issuingAtStart) await issuing.start();
    host = await startBrowserHost({
      services: shopServices,
      staticDir,
      handlers: o.kiosk ? createHandlers({ ...shopServices, kiosk: o.kiosk }) : undefined,
    });
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 800 },
      acceptDownloads: true,
    });
  } catch (e) {
    await host?.close();
    await issuing.close();
    await services.close();
    for (const h of [...Object.values(held), ...heldTray]) h.release();
    for (const d of [demoDir, profileDir]) rmSync(d, { recursive: true, force: true });
    throw e;
  }
  const hostAddress = `127.0.0.1:${host.port}`;
  const page = context.pages()[0] ?? (await context.newPage());
  const remoteRequests: string[] = [];
  page.on('request', (r) => {
    if (new URL(r.url()).host !== hostAddress && !r.url().startsWith('blob:')) remoteRequests.push(r.url());
  });
  const routes: WebSocketRoute[] = [];
  if (o.routeEvents || o.silenceTerminal) {
    const silent = o.silenceTerminal;
    await page.routeWebSocket(/\/ws\?/, (ws) => {
      const server = ws.connectToServer();
      if (silent) server.onMessage((m) => !silent() && ws.send(m));
      routes.push(ws);
    });
  }
  await page.goto(host.url);
  const signIn = async (on: Page = page, operatorId = 'sam', pin: string = DEMO_OPERATOR_PINS.supervisor) => {
    await on.locator('#operator-id').fill(operatorId);
    await on.locator('#operator-pin').fill(pin);
    await on.locator('#operator-pin').press('Enter');
    await on.getByTestId('operator').waitFor();
  };
  if (o.operator !== false) {
    const who = o.operator ?? 'sam';
    await signIn(page, who, who === 'sam' ? DEMO_OPERATOR_PINS.supervisor : DEMO_OPERATOR_PINS.cashier);
  }
  return {
    demoDir,
    config,
    services,
    slots,
    cards,
    trayCards,
    issuing,
    host,
    context,
    page,
    remoteRequests,
    byTest: (id) => page.getByTestId(id),
    insert,
    signIn,
    async newTab() {
      const tab = await context.newPage();
      // The token travels in the fragment, as in the printed address.
      await tab.goto(host.url);
      return tab;
    },
    async pushEvent(event, payload) {
      if (routes.length === 0) throw new Error('pushEvent needs routeEvents and an open page');
      for (const ws of routes) ws.send(JSON.stringify({ event, payload }));
    },
    shoot: (name) => shootPage(page, name),
    async close() {
      await context.close();
      await host.close();
      await issuing.close();
      await services.close();
      for (const h of [...Object.values(held), ...heldTray]) h.release();
      for (const d of [demoDir, profileDir]) rmSync(d, { recursive: true, force: true });
    },
  };
}
