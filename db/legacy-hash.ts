// The version-1 journal's chain link (db/legacy-journal.ts): hash = hex(sha256(prev_hash ‖ canonical JSON
// of the row fields)), prev_hash as its 64-character lowercase hex text. Kept to recompute the chain of a
// migrated log (verifyLegacyChain) and to write version-1 rows in tests.

import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { canonicalJson } from '../protocol/canonical-json.js';

/** The prevHash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** The fields of an entry its hash covers (with the previous entry's hash). */
export interface HashedFields {
  readonly seq: number;
  readonly at: string;
  readonly flow_id: string;
  readonly flow_kind: string;
  readonly step: string;
  readonly payload: unknown;
}

/** sha256(prevHash ‖ canonical JSON of the fields), lowercase hex: the chain link of one entry. */
export function entryHash(prevHash: string, fields: HashedFields): string {
  const { seq, at, flow_id, flow_kind, step, payload } = fields;
  const body = canonicalJson({ seq, at, flow_id, flow_kind, step, payload });
  return bytesToHex(sha256(utf8ToBytes(prevHash + body)));
}
