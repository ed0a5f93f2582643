// A ready-to-use demo shop: an issuer, two personalized simulated cards (Alice pays, Bob's shop
// receives), the CA certificate, a built-in CRL, the shop terminal's identity key, a terminal
// configuration, and the folder of the demo issuer host it talks to (demo-host-files.ts: TLS, authority
// key, the terminal's `host` section). Made on first start so `npm start` needs no setup; every key
// is generated here, none is committed. The issuer's side (card-sim/issuer, issuer-host/) and the
// terminal's meet only in demo/: the one place allowed to wire them (test/architecture/layers.ts).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { settlementStateCodec } from '../card-sim/applets/settlement/state.js';
import { createIssuer, personalizeCard, publishCrl, saveIssuer } from '../card-sim/issuer/issuer.js';
import { FileBackend } from '../card-sim/os/persistence-backend.js';
import type { TerminalConfig } from '../electron/services/config.js';
import { fromHex } from '../protocol/bytes.js';
import { toPem } from '../protocol/pki/index.js';
import { demoTerminalIdentity, ensureDemoHost } from './demo-host-files.js';

export const DEMO_DIR = '.state/demo';
/** The demo cards' owner PINs; the shop's card is also an issuer card (it sells the tickets it issues). */
export const DEMO_PINS = { payer: '1234', payee: '0000' } as const;

export function ensureDemoEnvironment(dir = DEMO_DIR): string {
  const configPath = join(dir, 'terminal.json');
  if (existsSync(configPath)) {
    ensureDemoHost(dir, configPath); // a demo made before the host gets one
    return configPath;
  }
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
