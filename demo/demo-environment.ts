// A ready-to-use demo shop: an issuer, two personalized simulated cards (Alice pays, the Corner Shop
// receives), four more for the browser host's card tray (a second customer, an expired card, a
// revoked one, one whose PIN is blocked), the CA certificate, a built-in CRL that lists the revoked
// card, the authority's allow-list entry for the shop's issuing terminal, the shop's two operators
// and a terminal configuration. Made on first start so `npm start` needs no setup;
// every key is generated here, none is committed. The issuer's side (card-sim/issuer, the authority
// in issuer-host/) and the terminal's meet only here and in in-process-issuing.ts: demo/ is the one
// place allowed to wire them into one process (test/architecture/layers.ts).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { settlementStateCodec } from '../card-sim/applets/settlement/state.js';
import {
  createIssuer,
  type PersonalizeOptions,
  personalizeCard,
  publishCrl,
  revokeCertificate,
  saveIssuer,
} from '../card-sim/issuer/issuer.js';
import type { IssuerState } from '../card-sim/issuer/issuer-state.js';
import { FileBackend } from '../card-sim/os/persistence-backend.js';
import type { TerminalConfigFile } from '../electron/services/config.js';
import { loadOrCreateServerIdentity } from '../electron/services/issuing/server-identity.js';
import { demoOperators } from '../electron/services/operators/demo-operators.js';
import type { ScryptCost } from '../electron/services/operators/pin-hash.js';
import { openAuthority } from '../issuer-host/authority/open-authority.js';
import { fromHex, toHex } from '../protocol/bytes.js';
import { toPem } from '../protocol/pki/index.js';

export const DEMO_DIR = '.state/demo';
/** The demo cards' owner PINs; the shop's card is also an issuer card (it sells the tickets it issues). */
export const DEMO_PINS = { payer: '1234', payee: '0000' } as const;

/** The card tray's demo cards: what each shows on the screen, and its owner PIN. */
export const DEMO_TRAY_CARDS = [
  { id: 'bob', label: 'Bob', note: 'a second customer', pin: '2468' },
  { id: 'carol', label: 'Carol', note: 'an expired card', pin: '1357' },
  { id: 'dave', label: 'Dave', note: 'a card its issuer revoked', pin: '8642' },
  { id: 'erin', label: 'Erin', note: 'a card whose PIN is blocked', pin: '9753' },
] as const;
export type DemoTrayCardId = (typeof DEMO_TRAY_CARDS)[number]['id'];

/** The issuer's unblock codes of the demo cards (its letters to their holders), by card label. */
export const UNBLOCK_CODES_FILE = 'unblock-codes.json';

/**
 * The demo operators' PINs are printed in the README, so hashing them slowly protects nothing: a
 * cheaper cost keeps the demo's sign-in quick. Real operators' entries (`npm run operator-pin`) get
 * the full cost.
 */
export const DEMO_OPERATOR_PIN_COST: ScryptCost = { logN: 12, r: 8, p: 1 };

export interface DemoOptions {
  /** scrypt cost of the demo operators' PIN hashes (default DEMO_OPERATOR_PIN_COST). */
  operatorPinCost?: ScryptCost;
}

export function ensureDemoEnvironment(dir = DEMO_DIR, o: DemoOptions = {}): string {
  const configPath = join(dir, 'terminal.json');
  if (existsSync(configPath)) return configPath;
  mkdirSync(dir, { recursive: true });
  const issuer = createIssuer({ name: 'Demo Transit', currency: 978, updateKeys: 3, transferKeys: 6 });
  const common = { validity: '20301231', maxBalance: 5_000_00, transferKeyIdLimit: 6, updateKeyIdLimit: 3 };
  // Alice's card has an older transfer key: her first payment shows a key update.
  const payer = personalizeCard(issuer, {
    ...common,
    label: 'Alice',
    balance: 200_00,
    pin: DEMO_PINS.payer,
    transferKeyId: 1,
    updateKeyId: 1,
  });
  const payee = personalizeCard(issuer, {
    ...common,
    label: 'Corner Shop',
    balance: 50_00,
    pin: DEMO_PINS.payee,
    issuerCard: true,
    transferKeyId: 2,
    updateKeyId: 1,
  });
  new FileBackend(join(dir, 'payer-card.json')).store(settlementStateCodec.encode(payer));
  new FileBackend(join(dir, 'payee-card.json')).store(settlementStateCodec.encode(payee));
  const tray = makeTrayCards(issuer, dir, common);
  writeFileSync(join(dir, 'ca.pem'), toPem('CERTIFICATE', fromHex(issuer.caCertificate)));
  writeFileSync(join(dir, 'builtin.crl'), publishCrl(issuer, { validityDays: 3650 }));
  saveIssuer(join(dir, 'issuer.json'), issuer);
  const codes = Object.fromEntries(issuer.issued.map((c) => [c.card ?? c.holderId, c.puk]));
  writeFileSync(join(dir, UNBLOCK_CODES_FILE), `${JSON.stringify(codes, null, 2)}\n`, { mode: 0o600 });
  allowDemoIssuingTerminal(dir);
  const config: TerminalConfigFile = {
    dataDir: 'data',
    currency: 978,
    currencyCode: 'EUR',
    minorUnits: 2,
    locale: 'en-IE',
    caCertificate: 'ca.pem',
    builtinCrl: 'builtin.crl',
    crl: { expiredPolicy: 'refuse', fetchTimeoutMs: 5000 },
    waitingTimeMs: 5000,
    slots: {
      backend: 'simulated',
      cards: { payer: 'payer-card.json', payee: 'payee-card.json' },
      tray,
    },
    operators: demoOperators(o.operatorPinCost ?? DEMO_OPERATOR_PIN_COST),
    idleLockMinutes: 5,
    shop: { name: 'Corner Shop', terminalId: 'T-0001', timeZone: 'Europe/Dublin' },
    endOwnerLoginAfterSale: true,
  };
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  return configPath;
}

/**
 * The tray's cards: Bob like Alice; Carol's validity ended last year; Dave's certificate revoked (the
 * built-in CRL, published after this, lists it); Erin's PIN blocked after three wrong tries.
 */
function makeTrayCards(
  issuer: IssuerState,
  dir: string,
  common: Omit<PersonalizeOptions, 'balance' | 'transferKeyId' | 'updateKeyId'>,
): NonNullable<Extract<TerminalConfigFile['slots'], { backend: 'simulated' }>['tray']> {
  const lastYear = new Date().getUTCFullYear() - 1;
  // The two cards the slots start with are the tray's too: it can take them out and put them back.
  const inSlots = [
    { id: 'alice', label: 'Alice', note: 'the first customer', file: 'payer-card.json' },
    { id: 'shop', label: 'Corner Shop', note: 'the shop’s own card', file: 'payee-card.json' },
  ];
  return inSlots.concat(
    DEMO_TRAY_CARDS.map((c) => {
      const expired = c.id === 'carol';
      const state = personalizeCard(issuer, {
        ...common,
        label: c.label,
        balance: 80_00,
        pin: c.pin,
        transferKeyId: 2,
        updateKeyId: 1,
        ...(expired ? { validity: `${lastYear}1231`, now: new Date(Date.UTC(lastYear - 1, 0, 1)) } : {}),
      });
      if (c.id === 'dave') revokeCertificate(issuer, BigInt(issuer.issued.at(-1)!.serial));
      if (c.id === 'erin' && state.owner) state.owner.tries = 0;
      const file = `tray-${c.id}.json`;
      new FileBackend(join(dir, file)).store(settlementStateCodec.encode(state));
      return { id: c.id, label: c.label, note: c.note, file };
    }),
  );
}

/** The demo shop's terminal may issue tickets and coupons: its key is made now and allow-listed. */
function allowDemoIssuingTerminal(dir: string): void {
  const identity = loadOrCreateServerIdentity(join(dir, 'data'), {
    name: 'Corner Shop terminal',
    terminalId: 'demo-shop-terminal',
  });
  const authority = openAuthority({ issuerFile: join(dir, 'issuer.json') });
  try {
    authority.allow({
      terminalId: identity.serverInfo.terminalId,
      publicKey: toHex(identity.publicKey),
      contentTypes: ['ticket', 'coupon'],
      validitySeconds: 365 * 86_400,
    });
  } finally {
    authority.close();
  }
}
