// The terminal's identity towards the issuer's side: its server information and a P-256 key pair,
// generated once into the terminal's data folder (mode 0600, never overwritten), and the create
// command the authority last issued to it.
//
// One key serves both things the issuer's side needs to know this terminal by: it is the issuing
// server's key of seed 000 (registration and authentication requests to the command-generating
// server) and the key the terminal is registered with at the issuer host (every request signed,
// docs/issuer-host.md). They are one identity: the same party (this terminal), the same holder (this
// file), the same lifetime (a new key is a new terminal ID at the host, and a new registration at the
// authority), and the host checks that the two name the same terminal and key. The signed messages
// are domain-separated ('STLM1SRG', 'STLM1SAQ' against 'STL-HOST-REQUEST-1'), so no signature of one
// kind can pass for the other. Its terminal ID is the ID at the host (the configuration's
// host.terminalId, which must match once the file exists).
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { fromHex, toHex } from '../../../protocol/bytes.js';
import { generateP256KeyPair, p256PublicKey } from '../../../protocol/crypto-suite.js';
import { errorMessage, TerminalError } from '../../../protocol/errors.js';
import {
  type CreateCommand,
  type ServerInfo,
  serverInfoSchema,
} from '../../../protocol/issuing/authority-protocol.js';
import { CONTENT_TYPES } from '../../../protocol/settlement/contents-codec.js';

export const SERVER_KEY_FILE = 'issuing-server.json';
export const REGISTRATION_FILE = 'issuing-registration.json';

const identityFileSchema = z.object({
  format: z.literal(1),
  serverInfo: serverInfoSchema,
  privateKey: z.string().regex(/^[0-9A-F]{64}$/),
});

const registrationFileSchema = z.object({
  format: z.literal(1),
  /** The server key the command was issued to: a replaced key file voids the registration. */
  serverPublicKey: z.string().regex(/^[0-9A-F]{130}$/),
  registeredAt: z.string(),
  createCommand: z.object({
    commandId: z.string().regex(/^[0-9A-F]{32}$/),
    terminalId: z.string(),
    contentTypes: z.array(z.enum(CONTENT_TYPES)),
    issuerId: z.string().regex(/^[0-9A-F]{32}$/),
    notAfter: z.number().int(),
    maxIssuances: z.number().int().nullable(),
  }),
});
export type StoredRegistration = z.infer<typeof registrationFileSchema>;

export interface ServerIdentity {
  serverInfo: ServerInfo;
  privateKey: Uint8Array;
  publicKey: Uint8Array;
  path: string;
}

/**
 * Reads the identity from `dataDir`, or creates it there (first use): `init` names the server then;
 * the terminal ID defaults to "issuing-" and 8 random hex digits.
 */
export function loadOrCreateServerIdentity(
  dataDir: string,
  init: { name?: string | undefined; terminalId?: string | undefined } = {},
): ServerIdentity {
  const path = join(dataDir, SERVER_KEY_FILE);
  try {
    return readIdentity(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const serverInfo = serverInfoSchema.safeParse({
    name: init.name ?? 'Issuing terminal',
    terminalId: init.terminalId ?? `issuing-${nodeRandomBytes(4).toString('hex')}`,
  });
  if (!serverInfo.success) {
    throw new TerminalError('E_INPUT_INVALID', `server information: ${serverInfo.error.issues[0]?.message}`);
  }
  const keys = generateP256KeyPair();
  mkdirSync(dataDir, { recursive: true });
  const file = { format: 1, serverInfo: serverInfo.data, privateKey: toHex(keys.privateKey) };
  try {
    // 'wx': a concurrent first start keeps whichever file was written first.
    writeFileSync(path, `${JSON.stringify(file, null, 1)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new TerminalError('E_INPUT_INVALID', `cannot write ${path}: ${errorMessage(e)}`);
    }
  }
  return readIdentity(path);
}

/**
 * The identity the terminal is known by at the issuer host `terminalId` (created with that ID on
 * first use); E_INPUT_INVALID when the key file names another terminal: a key file never changes
 * its terminal, and the host knows a terminal by ID and key together.
 */
export function hostIdentity(dataDir: string, terminalId: string, name?: string): ServerIdentity {
  const identity = loadOrCreateServerIdentity(dataDir, { terminalId, name });
  if (identity.serverInfo.terminalId !== terminalId) {
    throw new TerminalError(
      'E_INPUT_INVALID',
      `the terminal key file ${identity.path} is terminal ${identity.serverInfo.terminalId}, but the configuration's host.terminalId is ${terminalId}`,
      { keyFile: identity.serverInfo.terminalId, configured: terminalId },
    );
  }
  return identity;
}

function readIdentity(path: string): ServerIdentity {
  const raw = readFileSync(path, 'utf8'); // ENOENT passes through to the caller
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    json = undefined;
  }
  const parsed = identityFileSchema.safeParse(json);
  if (!parsed.success)
    throw new TerminalError('E_INPUT_INVALID', `issuing server key file ${path} is not valid`);
  const privateKey = fromHex(parsed.data.privateKey);
  return { serverInfo: parsed.data.serverInfo, privateKey, publicKey: p256PublicKey(privateKey), path };
}

/** The stored create command, if it was issued to this key; anything unreadable counts as none. */
export function readRegistration(
  dataDir: string,
  serverPublicKey: Uint8Array,
): StoredRegistration | undefined {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(join(dataDir, REGISTRATION_FILE), 'utf8'));
  } catch {
    return undefined;
  }
  const parsed = registrationFileSchema.safeParse(json);
  if (!parsed.success || parsed.data.serverPublicKey !== toHex(serverPublicKey)) return undefined;
  return parsed.data;
}

export function saveRegistration(
  dataDir: string,
  r: { serverPublicKey: Uint8Array; registeredAt: string; createCommand: CreateCommand },
): StoredRegistration {
  const file = registrationFileSchema.parse({
    format: 1,
    serverPublicKey: toHex(r.serverPublicKey),
    registeredAt: r.registeredAt,
    createCommand: r.createCommand,
  });
  const path = join(dataDir, REGISTRATION_FILE);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(file, null, 1)}\n`);
  renameSync(`${path}.tmp`, path);
  return file;
}

export function forgetRegistration(dataDir: string): void {
  rmSync(join(dataDir, REGISTRATION_FILE), { force: true });
}
