// A ready-to-use demo shop: an issuer, two personalized simulated cards (Alice pays, Bob's shop
// receives), the CA certificate, a built-in CRL, the shop terminal's identity key, a terminal
// configuration, and the folder of the demo issuer host it talks to (demo-host-files.ts: TLS, authority
// key, the terminal's `host` section). Made on first start so `npm start` needs no setup; every key
// is generated here, none is committed. The issuer's side (card-sim/issuer, issuer-host/) and the
// terminal's meet only in demo/: the one place allowed to wire them (test/architecture/layers.ts).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { settlementStateCodec } from '../card-sim/applets/settlement/state.js';
import { migrateCardImage } from '../card-sim/applets/settlement/state-migration.js';
import { whileHolding } from '../card-sim/card-files.js';
import { createIssuer, personalizeCard, publishCrl, saveIssuer } from '../card-sim/issuer/issuer.js';
import { FileBackend } from '../card-sim/os/persistence-backend.js';
import type { TerminalConfig } from '../electron/services/config.js';
import { fromHex } from '../protocol/bytes.js';
import { toPem } from '../protocol/pki/index.js';
import { DEFAULT_NO_PIN_LIMITS } from '../protocol/settlement/cardholder-policy.js';
import { demoTerminalIdentity, ensureDemoHost } from './demo-host-files.js';

export const DEMO_DIR = '.state/demo';
/** The demo cards' owner PINs; the shop's card is also an issuer card (it sells the tickets it issues). */
export const DEMO_PINS = { payer: '1234', payee: '0000' } as const;

const CARD_FILES = ['payer-card.json', 'payee-card.json'] as const;

/**
 * The demo shop's configuration, made on first use. Card files an earlier version wrote (format 1,
 * refused on open with E_CARD_VERSION) are migrated in place to version 2 with the demo cardholder
 * policy, and `say` is told so (standard error by default: it must not mix with a CLI's --json).
 */
export function ensureDemoEnvironment(
  dir = DEMO_DIR,
  say: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): string {
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
  writeFileSync(join(dir, 'ca.pem'), toPem('CERTIFICATE', fromHex(issuer.caCertificate)));
  writeFileSync(join(dir, 'builtin.crl'), publishCrl(issuer, { validityDays: 3650 }));
  saveIssuer(join(dir, 'issuer.json'), issuer);
  demoTerminalIdentity(dir);
  const config: TerminalConfig = {
    dataDir: 'data',
    currency: 978,
    currencyCode: 'EUR',
    minorUnits: 2,
    locale: 'en-IE',
    caCertificate: 'ca.pem',
    builtinCrl: 'builtin.crl',
    crl: { expiredPolicy: 'refuse', fetchTimeoutMs: 5000 },
    waitingTimeMs: 5000,
    slots: { backend: 'simulated', cards: { payer: 'payer-card.json', payee: 'payee-card.json' } },
  };
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  ensureDemoHost(dir, configPath);
  return configPath;
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
