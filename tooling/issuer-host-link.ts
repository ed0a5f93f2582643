// How the issuer's staff tools reach the issuer host: a small JSON file (mode 0600) naming the host,
// the pin of its TLS key, the issuer CA certificate and a staff token. The card tool publishes CRLs
// through it (`npm run card -- issuer-revoke | issuer-crl`) and records each card's issuance
// (`npm run card -- personalize`, `npm run issuer -- issuance-record`), the authority's command line
// keeps the allow-list through it (`npm run issuer -- authority-*`). Paths are relative to the file; the
// environment variable ISSUER_HOST_TOKEN, when set, wins over the file's token.
//
//   { "url": "https://127.0.0.1:8443", "pins": ["sha256/…"], "caCertificate": "ca.pem", "token": "stlh_…" }
//
// By default the file is `issuer-host.json` beside the issuer file (the demo shop writes one).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { errorMessage, TerminalError } from '../protocol/errors.js';
import { HostClient } from '../protocol/host-link/host-client.js';
import {
  ISSUANCES_PATH,
  type IssuanceRequest,
  type IssuanceResponse,
} from '../protocol/host-link/issuance-wire.js';
import { SPKI_PIN_PATTERN } from '../protocol/host-link/spki-pin.js';
import { fromPem } from '../protocol/pki/index.js';

export const HOST_LINK_FILE = 'issuer-host.json';
export const HOST_TOKEN_ENV = 'ISSUER_HOST_TOKEN';

export const hostLinkFileSchema = z.strictObject({
  url: z.string().regex(/^https:\/\/[^/?#]+$/, 'is https://host[:port]'),
  pins: z.array(z.string().regex(SPKI_PIN_PATTERN, 'is sha256/<base64>')).min(1).max(4),
  caCertificate: z.string().min(1),
  token: z
    .string()
    .regex(/^stlh_[A-Za-z0-9_-]{43}$/, 'is a staff token (stlh_…)')
    .optional(),
});
export type HostLinkFile = z.infer<typeof hostLinkFileSchema>;

export interface StaffLink {
  path: string;
  url: string;
  client: HostClient;
}

/** The link file beside an issuer file (it may not exist). */
export function hostLinkBeside(issuerFile: string): string {
  return join(dirname(resolve(issuerFile)), HOST_LINK_FILE);
}

/** The link file named, else the one beside the issuer file if there is one, else undefined. */
export function findHostLink(o: { explicit?: unknown; issuerFile?: unknown }): string | undefined {
  if (typeof o.explicit === 'string') return o.explicit;
  if (typeof o.issuerFile !== 'string') return undefined;
  const beside = hostLinkBeside(o.issuerFile);
  return existsSync(beside) ? beside : undefined;
}

/** Opens a staff client of the host the link file names; the caller closes it. */
export function openStaffLink(path: string, env: NodeJS.ProcessEnv = process.env): StaffLink {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new TerminalError(
      'E_INPUT_INVALID',
      `cannot read the issuer host link ${path}: ${errorMessage(e)}`,
    );
  }
  const parsed = hostLinkFileSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new TerminalError(
      'E_INPUT_INVALID',
      `issuer host link ${path}: ${first?.path.join('.') || '(file)'} ${first?.message}`,
    );
  }
  const link = parsed.data;
  const token = env[HOST_TOKEN_ENV] || link.token;
  if (!token) {
    throw new TerminalError(
      'E_AUTH_MISSING',
      `issuer host link ${path} has no staff token: add "token" or set ${HOST_TOKEN_ENV}`,
    );
  }
  const caPath = resolve(dirname(resolve(path)), link.caCertificate);
  let caCertificateDer: Uint8Array;
  try {
    const bytes = readFileSync(caPath);
    caCertificateDer =
      bytes[0] === 0x30 ? new Uint8Array(bytes) : fromPem(bytes.toString('latin1'), 'CERTIFICATE');
  } catch (e) {
    throw new TerminalError(
      'E_INPUT_INVALID',
      `cannot read the CA certificate ${caPath}: ${errorMessage(e)}`,
    );
  }
  const client = new HostClient({ baseUrl: link.url, caCertificateDer, pins: link.pins, staffToken: token });
  return { path, url: link.url, client };
}

/**
 * Records a card's issuance at the host (POST /admin/ledger/issuances, an issuer-admin token): the
 * answer says whether it is new or was recorded before with the same terms.
 */
export function recordIssuanceAtHost(
  path: string,
  request: IssuanceRequest,
): Promise<{ url: string; issuance: IssuanceResponse }> {
  return withStaffLink(path, async ({ client, url }) => ({
    url,
    issuance: await client.call<IssuanceResponse>('POST', ISSUANCES_PATH, request),
  }));
}

/** Runs `work` with the link's client and closes it. */
export async function withStaffLink<T>(path: string, work: (link: StaffLink) => Promise<T>): Promise<T> {
  const link = openStaffLink(path);
  try {
    return await work(link);
  } finally {
    link.client.close();
  }
}
