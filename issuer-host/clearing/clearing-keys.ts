// The clearing verification key set: the issuer's transfer keys, by key ID, with which the host checks
// the value-transfer MACs the cards made (acknowledgements, challenges, abort and release proofs)
// before it books what a terminal uploaded (docs/issuer-host.md, "Proofs at clearing").
//
// The keys are AES-128 keys of a CMAC: whoever can verify a CMAC can also make one, so no
// verify-only form of them exists, and the host holds the raw keys (the risk is argued in the docs).
// They are read from their own file (mode 0600, refused when group or others may read it), kept in a
// private field of one object that exposes only `verify`, and never serialized, logged, served or
// stored: `toJSON` and `inspect` show the key IDs only.
import { readFileSync, statSync } from 'node:fs';
import { inspect } from 'node:util';
import { z } from 'zod';
import { fromHex } from '../../protocol/bytes.js';
import { macEquals } from '../../protocol/crypto-suite.js';
import { TerminalError } from '../../protocol/errors.js';
import { type MacLabel, type TransferTerms, transferMac } from '../../protocol/settlement/mac-input.js';

export const CLEARING_KEY_FILE = 'clearing-keys.json';

/** `{ format: 1, issuerId, transferKeys: { "<key ID>": "<32 hex>" } }`, written by `host init`. */
export const clearingKeyFileSchema = z.strictObject({
  format: z.literal(1),
  issuerId: z.string().regex(/^[0-9A-F]{32}$/),
  transferKeys: z
    .record(z.string().regex(/^[1-9][0-9]{0,9}$/), z.string().regex(/^[0-9A-F]{32}$/))
    .refine((keys) => Object.keys(keys).length > 0, 'names at least one transfer key')
    .refine((keys) => Object.keys(keys).every((id) => Number(id) <= 0xffff_ffff), 'key IDs are 4 bytes'),
});
export type ClearingKeyFile = z.infer<typeof clearingKeyFileSchema>;

/** The terms of a value-transfer MAC without its key ID: the verifier finds the key that made it. */
export type ProofTerms = Omit<TransferTerms, 'transferKeyId'>;

export class TransferProofVerifier {
  readonly #keys: ReadonlyArray<readonly [number, Uint8Array]>;
  readonly issuerId: string;
  /** The key IDs held, ascending: public (a card's GET CARD INFO names its own). */
  readonly keyIds: readonly number[];

  private constructor(issuerId: string, keys: ReadonlyArray<readonly [number, Uint8Array]>) {
    this.issuerId = issuerId;
    this.#keys = keys;
    this.keyIds = keys.map(([id]) => id);
  }

  static fromKeyFile(file: ClearingKeyFile): TransferProofVerifier {
    const keys = Object.entries(file.transferKeys)
      .map(([id, key]) => [Number(id), fromHex(key)] as const)
      .sort((a, b) => a[0] - b[0]);
    return new TransferProofVerifier(file.issuerId, keys);
  }

  /**
   * The ID of the transfer key under which `mac` is the card's MAC with this label over these terms,
   * or undefined. The journal does not name the key ID of a transfer (it is the cards' record's), so
   * every key held is tried: each MAC binds its key ID, so a forger's chance stays 2⁻¹²⁸ per key.
   */
  verify(label: MacLabel, terms: ProofTerms, mac: Uint8Array): number | undefined {
    for (const [transferKeyId, key] of this.#keys) {
      if (macEquals(transferMac(key, label, { ...terms, transferKeyId }), mac)) return transferKeyId;
    }
    return undefined;
  }

  toJSON(): { issuerId: string; keyIds: readonly number[] } {
    return { issuerId: this.issuerId, keyIds: this.keyIds };
  }

  [inspect.custom](): string {
    return `TransferProofVerifier { issuerId: '${this.issuerId}', keyIds: [${this.keyIds.join(', ')}] }`;
  }
}

/**
 * Reads and checks the key file. A file that group or others may read is refused before it is read
 * (as ssh refuses a private key); errors name the file, never its content.
 */
export function loadClearingKeys(path: string): TransferProofVerifier {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (e) {
    throw new TerminalError(
      'E_INPUT_INVALID',
      `cannot read the clearing key file ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new TerminalError(
      'E_INPUT_INVALID',
      `the clearing key file ${path} may be read by others (mode ${(mode & 0o777).toString(8)}): chmod 600 it`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new TerminalError('E_INPUT_INVALID', `the clearing key file ${path} is not JSON`);
  }
  const parsed = clearingKeyFileSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    // The path of the issue, never the value (it may be a key).
    throw new TerminalError(
      'E_INPUT_INVALID',
      `the clearing key file ${path} is not valid: ${first?.path.join('.') || '(file)'} ${first?.code ?? ''}`.trim(),
    );
  }
  return TransferProofVerifier.fromKeyFile(parsed.data);
}
