// A ready-to-use demo shop: an issuer, two personalized simulated cards (Alice pays, the Corner Shop
// receives), four more for the browser host's card tray (a second customer, an expired card, a
// revoked one, one whose PIN is blocked), the CA certificate, a built-in CRL that lists the revoked
// card, the shop terminal's identity key, the shop's two operators, a terminal configuration, and the
// folder of the demo issuer host it talks to (demo-host-files.ts: TLS, authority key, the terminal's
// `host` section). Made on first start so `npm start` needs no setup; every key is generated here,
// none is committed. The issuer's side (card-sim/issuer, issuer-host/) and the terminal's meet only
// in demo/: the one place allowed to wire them (test/architecture/layers.ts).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type SettlementState, settlementStateCodec } from '../card-sim/applets/settlement/state.js';
import { migrateCardImage } from '../card-sim/applets/settlement/state-migration.js';
import { whileHolding } from '../card-sim/card-files.js';
import { issuanceRequestOf } from '../card-sim/issuer/issuance-request.js';
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
import { demoOperators } from '../electron/services/operators/demo-operators.js';
import type { ScryptCost } from '../electron/services/operators/pin-hash.js';
import { fromHex } from '../protocol/bytes.js';
import { toPem } from '../protocol/pki/index.js';
import { DEFAULT_NO_PIN_LIMITS } from '../protocol/settlement/cardholder-policy.js';
import {
  type DemoIssuedCard,
  demoTerminalIdentity,
  ensureDemoHost,
  ISSUED_CARDS_FILE,
} from './demo-host-files.js';

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
  /** Told when a card file is migrated (standard error by default: it must not mix with a CLI's --json). */
  say?: (line: string) => void;
}

const CARD_FILES = ['payer-card.json', 'payee-card.json'] as const;

/**
 * The demo shop's configuration, made on first use. Card files an earlier version wrote (format 1,
 * refused on open with E_CARD_VERSION) are migrated in place to version 2 with the demo cardholder
 * policy, and `say` is told so.
 */
export function ensureDemoEnvironment(dir = DEMO_DIR, o: DemoOptions = {}): string {
  const say = o.say ?? ((line: string) => process.stderr.write(`${line}\n`));
  const configPath = join(dir, 'terminal.json');
  if (existsSync(configPath)) {
    migrateDemoCards(dir, say);
    ensureDemoHost(dir, configPath); // a demo made before the host gets one
    return configPath;
  }
  mkdirSync(dir, { recursive: true });
  const issuer = createIssuer({ name: 'Demo Transit', currency: 978, updateKeys: 3, transferKeys: 6 });
  const common = { validity: '20301231', maxBalance: 5_000_00, transferKeyIdLimit: 6, updateKeyIdLimit: 3 };
  // Alice's card has an older transfer key: her first payment shows a key update.
  // Both cards carry the demo cardholder policy (protocol §4.6): 25.00 a payment, 50.00 and three
  // payments in all without the PIN; above that the terminal asks for it.
  const payer = personalizeCard(issuer, {
    ...common,
    noPinLimits: DEFAULT_NO_PIN_LIMITS,
    label: 'Alice',
    balance: 200_00,
    pin: DEMO_PINS.payer,
    transferKeyId: 1,
    updateKeyId: 1,
  });
  const payee = personalizeCard(issuer, {
    ...common,
    noPinLimits: DEFAULT_NO_PIN_LIMITS,
    label: 'Corner Shop',
    balance: 50_00,
    pin: DEMO_PINS.payee,
    issuerCard: true,
    transferKeyId: 2,
    updateKeyId: 1,
  });
  new FileBackend(join(dir, 'payer-card.json')).store(settlementStateCodec.encode(payer));
  new FileBackend(join(dir, 'payee-card.json')).store(settlementStateCodec.encode(payee));
  const made = [payer, payee];
  const tray = makeTrayCards(issuer, dir, common, made);
  writeIssuedCards(dir, made);
  writeFileSync(join(dir, 'ca.pem'), toPem('CERTIFICATE', fromHex(issuer.caCertificate)));
  writeFileSync(join(dir, 'builtin.crl'), publishCrl(issuer, { validityDays: 3650 }));
  saveIssuer(join(dir, 'issuer.json'), issuer);
  const codes = Object.fromEntries(issuer.issued.map((c) => [c.card ?? c.holderId, c.puk]));
  writeFileSync(join(dir, UNBLOCK_CODES_FILE), `${JSON.stringify(codes, null, 2)}\n`, { mode: 0o600 });
  demoTerminalIdentity(dir);
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
  ensureDemoHost(dir, configPath);
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
  made: SettlementState[],
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
        noPinLimits: DEFAULT_NO_PIN_LIMITS,
        label: c.label,
        balance: 80_00,
        pin: c.pin,
        transferKeyId: 2,
        updateKeyId: 1,
        ...(expired ? { validity: `${lastYear}1231`, now: new Date(Date.UTC(lastYear - 1, 0, 1)) } : {}),
      });
      if (c.id === 'dave') revokeCertificate(issuer, BigInt(issuer.issued.at(-1)!.serial));
      if (c.id === 'erin' && state.owner) state.owner.tries = 0;
      made.push(state);
      const file = `tray-${c.id}.json`;
      new FileBackend(join(dir, file)).store(settlementStateCodec.encode(state));
      return { id: c.id, label: c.label, note: c.note, file };
    }),
  );
}

/**
 * The demo cards' issuance as the issuer's tools would send it (public data only: certificate,
 * currency, the value issued), for the demo host to record in its ledger (demo-host.ts).
 */
function writeIssuedCards(dir: string, cards: SettlementState[]): void {
  const issued: DemoIssuedCard[] = cards.map((c) => issuanceRequestOf(c, c.balance));
  writeFileSync(join(dir, ISSUED_CARDS_FILE), `${JSON.stringify(issued, null, 2)}\n`);
}

/** Migrates the demo's version-1 card files (kept: balances, keys, records, contents; added: the demo policy). */
function migrateDemoCards(dir: string, say: (line: string) => void): void {
  for (const name of CARD_FILES) {
    const file = join(dir, name);
    if (!existsSync(file)) continue;
    if (formatOf(file) !== 1) continue;
    whileHolding(file, () => {
      const result = migrateCardImage(readFileSync(file, 'utf8'), DEFAULT_NO_PIN_LIMITS);
      if (result.migrated) new FileBackend(file).store(settlementStateCodec.encode(result.state));
    });
    say(
      `demo: ${file} was a version-1 card; migrated to version 2 with the demo cardholder policy (25.00 a payment, 50.00 and 3 payments without the PIN)`,
    );
  }
}

/** The card image's format, if it reads as one (a damaged file is reported when the card is opened). */
function formatOf(file: string): unknown {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { format?: unknown }).format;
  } catch {
    return undefined;
  }
}
