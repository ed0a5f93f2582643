// The terminal's configuration file (JSON), validated on load. Paths are relative to the file.
// Which physical reader is which slot lives here, not in code.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { errorMessage, TerminalError } from '../../protocol/errors.js';
import { SPKI_PIN_PATTERN } from '../../protocol/host-link/spki-pin.js';
import { operatorsSchema } from './operators/operator-config.js';
import { isTimeZone } from './receipts/document-settings.js';

const slotMapping = z
  .object({ payer: z.string().min(1), payee: z.string().min(1) })
  .refine((m) => m.payer !== m.payee, {
    message: 'payer and payee must be different readers',
  });

/** A demo card the browser host's card tray may put into a slot (simulated slots only). */
const trayCard = z.object({
  id: z.string().regex(/^[a-z][a-z0-9-]{0,23}$/),
  label: z.string().min(1).max(48),
  /** What it shows: "a second customer", "an expired card"… */
  note: z.string().max(80).default(''),
  file: z.string().min(1),
});

const hostUrl = z.string().regex(/^https:\/\/[^/?#]+$/, 'is https://host[:port]');

export const terminalConfigSchema = z.object({
  /** Folder of the transaction log (terminal.db). */
  dataDir: z.string().min(1),
  /** ISO 4217 numeric currency settled here, and how amounts are shown. */
  currency: z.number().int().min(0).max(999),
  currencyCode: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .default('EUR'),
  minorUnits: z.number().int().min(0).max(4).default(2),
  locale: z.string().min(2).default('en-IE'),
  /** Issuer CA certificate, PEM or DER: the terminal's trust anchor. */
  caCertificate: z.string().min(1),
  /** CRL shipped with the terminal, used when none was ever fetched. */
  builtinCrl: z.string().min(1).optional(),
  crl: z
    .object({
      /** Default: the issuer host's /crl when `host` is configured (fetched over the pinned link). */
      distributionPoint: z.string().url().optional(),
      expiredPolicy: z.enum(['refuse', 'warn']).default('refuse'),
      fetchTimeoutMs: z.number().int().min(100).max(120_000).default(5000),
    })
    .default({ expiredPolicy: 'refuse', fetchTimeoutMs: 5000 }),
  /** The communication monitor's waiting time for each card answer (seed 000 Fig. 9). */
  waitingTimeMs: z.number().int().min(50).max(120_000).default(5000),
  slots: z.discriminatedUnion('backend', [
    z.object({
      backend: z.literal('simulated'),
      cards: z.object({ payer: z.string().min(1), payee: z.string().min(1) }),
      /** More demo cards for the browser host's card tray (never with real readers). */
      tray: z.array(trayCard).max(20).optional(),
    }),
    z.object({
      backend: z.literal('pcsc'),
      readers: slotMapping,
      /**
       * false for readers limited to short APDUs: GET CARD INFO then comes in parts chained by GET
       * RESPONSE. Default: extended length with T=1 cards (docs/protocol.md §4.1).
       */
      extendedLength: z.boolean().optional(),
    }),
  ]),
  /** Kiosk mode of the Electron shell (also `--kiosk`): full screen, left only with the exit PIN. */
  kiosk: z
    .object({
      enabled: z.boolean().default(false),
      /** The exit PIN as a salted scrypt hash, never the PIN itself: `npm run kiosk-pin` prints one. */
      exitPinHash: z.string().min(1).max(300).optional(),
    })
    .optional(),
  /** Who may sign in at this terminal (electron/services/operators/): `npm run operator-pin` prints an entry. */
  operators: operatorsSchema.optional(),
  /** The operator screen locks after this many minutes without activity (default 5). */
  idleLockMinutes: z.number().int().min(1).max(480).optional(),
  /** The shop on its documents; `timeZone` is its clock: local times and the business day. */
  shop: z
    .object({
      name: z.string().min(1).max(48),
      terminalId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,15}$/),
      timeZone: z.string().refine(isTimeZone, 'is not an IANA time zone the runtime knows'),
    })
    .default({ name: 'Corner Shop', terminalId: 'T-0001', timeZone: 'Europe/Dublin' }),
  /**
   * A customer's owner login (their PIN on the card in the payer slot) ends after each completed
   * sale, refund or exchange, so the next customer never finds it open (default on).
   */
  endOwnerLoginAfterSale: z.boolean().default(true),
  /**
   * The issuer host (docs/issuer-host.md): its address (or addresses), the pins of its TLS key (the current one and,
   * during a key change, the next), and this terminal's ID there, registered with the public key of
   * the terminal's identity key file (`npm run terminal -- host-key` prints both). The CRL comes from
   * it and the issuing terminal asks it for create rights; the terminal never waits for it to sell.
   */
  host: z
    .object({
      url: hostUrl.optional(),
      /**
       * More addresses of the same host fleet (instances sharing one database), with the same pins:
       * tried in order after `url`, the next one only when an address cannot be reached.
       */
      urls: z.array(hostUrl).min(1).max(8).optional(),
      pins: z.array(z.string().regex(SPKI_PIN_PATTERN, 'is sha256/<base64>')).min(1).max(4),
      terminalId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
      timeoutMs: z.number().int().min(500).max(120_000).default(10_000),
    })
    .refine((h) => h.url !== undefined || h.urls !== undefined, {
      message: 'names no address: give url or urls',
      path: ['url'],
    })
    .transform(({ url, urls, ...rest }) => {
      const all = [...new Set([...(url ? [url] : []), ...(urls ?? [])])];
      // `url` is the first address (what a single-address configuration always had).
      return { ...rest, url: all[0]!, urls: all };
    })
    .optional(),
});

export type TerminalConfig = z.infer<typeof terminalConfigSchema>;
/** A configuration file's content before defaults are filled in. */
export type TerminalConfigFile = z.input<typeof terminalConfigSchema>;

export function loadConfig(path: string): TerminalConfig & { configPath: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new TerminalError(
      'E_INPUT_INVALID',
      `cannot read terminal configuration ${path}: ${errorMessage(e)}`,
    );
  }
  const parsed = terminalConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new TerminalError(
      'E_INPUT_INVALID',
      `terminal configuration ${path}: ${first?.path.join('.')} ${first?.message}`,
      {
        issues: parsed.error.issues,
      },
    );
  }
  const base = dirname(resolve(path));
  const at = (p: string) => resolve(base, p);
  const c = parsed.data;
  return {
    ...c,
    configPath: resolve(path),
    dataDir: at(c.dataDir),
    caCertificate: at(c.caCertificate),
    builtinCrl: c.builtinCrl ? at(c.builtinCrl) : c.builtinCrl,
    slots:
      c.slots.backend === 'simulated'
        ? {
            backend: 'simulated',
            cards: { payer: at(c.slots.cards.payer), payee: at(c.slots.cards.payee) },
            tray: c.slots.tray?.map((card) => ({ ...card, file: at(card.file) })),
          }
        : c.slots,
  };
}
