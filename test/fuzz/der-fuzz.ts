// Certificate and CRL fuzz. Mutated DER (der-mutations.ts) of a card certificate, the CA
// certificate and a CRL goes through every path that reads such bytes: protocol/pki's parsers and
// checks, the terminal's CRL cache import (DER, DER file, PEM file), and a card checking a peer
// certificate (BEGIN KEY UPDATE, public-key route).
//
// Properties: every refusal is a TerminalError with one of the codes the function documents (never
// another exception); a successful parse of changed bytes never passes the signature check; only
// the unchanged bytes pass a full check or an import; the card answers a status word (never 6F00)
// and accepts only the unchanged certificate; a refused CRL import leaves the cache's good CRL in
// place (status, stored CRL, revocations). A hang shows as the run not finishing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { publishCrl, revokeCertificate } from '../../card-sim/issuer/issuer.js';
import { openDatabase } from '../../db/connection.js';
import { CrlStore } from '../../db/crl-store.js';
import { CrlCache } from '../../electron/services/crl/crl-cache.js';
import { encodeCommandApdu, parseResponseApdu } from '../../protocol/apdu.js';
import { concat, equalBytes, fromHex, u32 } from '../../protocol/bytes.js';
import { p256PublicKey } from '../../protocol/crypto-suite.js';
import { type ErrorCode, TerminalError } from '../../protocol/errors.js';
import {
  checkCardCertificate,
  parseCertificate,
  parseCrl,
  toPem,
  verifyCertificateSignature,
  verifyCrlSignature,
} from '../../protocol/pki/index.js';
import { CLA_ISO, INS, KEY_ROUTE, SETTLEMENT_AID } from '../../protocol/settlement/commands.js';
import { SW, swHex } from '../../protocol/status-words.js';
import { NOW } from '../support/card-fixtures.js';
import {
  allNodes,
  applyByteEdits,
  type ByteEdit,
  byteEditArb,
  type DerNode,
  editTree,
  readTree,
  serialize,
  type TreeEdit,
  treeEditArb,
} from './der-mutations.js';
import { buildFixture, type FuzzCard, makeFuzzCard } from './fuzz-cards.js';
import { checkProperty, type FuzzOptions, type FuzzReport, FuzzStats, invariant } from './fuzz-report.js';
import { withSeededRandom } from './seeded-random.js';

export type DerTarget = 'card-certificate' | 'ca-certificate' | 'crl';
export type DerPath = 'parse' | 'card' | 'import-der' | 'import-file' | 'import-pem-file';

export interface DerCase {
  target: DerTarget;
  path: DerPath;
  tree: TreeEdit[];
  bytes: ByteEdit[];
}

const edits = {
  tree: fc.array(treeEditArb, { maxLength: 3 }),
  bytes: fc.array(byteEditArb, { maxLength: 2 }),
};
export const derCaseArb: fc.Arbitrary<DerCase> = fc
  .oneof(
    fc.record({
      target: fc.constantFrom<DerTarget>('card-certificate', 'ca-certificate'),
      path: fc.constantFrom<DerPath>('parse', 'parse', 'card'),
      ...edits,
    }),
    fc.record({
      target: fc.constant<DerTarget>('crl'),
      path: fc.constantFrom<DerPath>('parse', 'import-der', 'import-der', 'import-file', 'import-pem-file'),
      ...edits,
    }),
  )
  .filter((c) => c.tree.length + c.bytes.length > 0);

const PARSE_CODES: ErrorCode[] = ['E_PKI_MALFORMED', 'E_PKI_UNSUPPORTED'];
const CHECK_CODES: ErrorCode[] = [...PARSE_CODES, 'E_PKI_SIGNATURE', 'E_PKI_EXPIRED'];
const IMPORT_CODES: ErrorCode[] = [...PARSE_CODES, 'E_PKI_SIGNATURE', 'E_INPUT_INVALID'];

interface DerFixture {
  originals: Record<DerTarget, Uint8Array>;
  trees: Record<DerTarget, DerNode>;
  /** TLVs to splice in: every node of the three structures, and odd ones. */
  donors: DerNode[];
  caPublicKey: Uint8Array;
  card: FuzzCard;
  cache: CrlCache;
  store: CrlStore;
  issuerKeyId: string;
  revokedCertificate: Uint8Array;
  dir: string;
  close(): void;
}

export async function runDerFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const fixture = await withSeededRandom(`der-fixture:${opts.seed}`, buildDerFixture);
  const stats = new FuzzStats();
  try {
    const property = fc.property(derCaseArb, (c) => runDerCase(fixture, c, stats));
    return await checkProperty('der', property, opts, stats);
  } finally {
    fixture.close();
  }
}

function buildDerFixture(): DerFixture {
  const cards = buildFixture();
  const { issuer } = cards;
  const revokedHolder = cards.templates.newer.holderId;
  const revoked = issuer.issued.find((c) => c.holderId === revokedHolder)!;
  revokeCertificate(issuer, BigInt(revoked.serial), new Date('2026-06-01T00:00:00Z'), 1);
  revokeCertificate(issuer, BigInt(cards.issuer.issued.at(-1)!.serial), new Date('2026-06-02T00:00:00Z'));
  const crl = publishCrl(issuer, { now: new Date('2026-11-20T00:00:00Z'), validityDays: 30 });
  const originals: Record<DerTarget, Uint8Array> = {
    'card-certificate': fromHex(cards.templates.payer.certificate),
    'ca-certificate': fromHex(issuer.caCertificate),
    crl,
  };
  const trees = {
    'card-certificate': readTree(originals['card-certificate']),
    'ca-certificate': readTree(originals['ca-certificate']),
    crl: readTree(crl),
  };
  const odd: DerNode[] = [
    { tag: 0x02, value: Uint8Array.of(0) },
    { tag: 0x02, value: Uint8Array.of(0xff) },
    { tag: 0x02, value: new Uint8Array(40).fill(0x7f) },
    { tag: 0x30, children: [] },
    { tag: 0x05, value: new Uint8Array(0) },
    { tag: 0x01, value: Uint8Array.of(0xff) },
    { tag: 0x06, value: fromHex('2A8648CE3D040303') }, // ecdsa-with-SHA384
    { tag: 0x06, value: fromHex('80') },
    { tag: 0x17, value: new TextEncoder().encode('991231235959Z') },
    { tag: 0x18, value: new TextEncoder().encode('99991231235959Z') },
    { tag: 0x17, value: new TextEncoder().encode('2612') },
    { tag: 0x03, value: Uint8Array.of(7, 0xff) },
    { tag: 0x0a, value: Uint8Array.of(7) },
  ];
  const donors = [...Object.values(trees).flatMap(allNodes), ...odd];
  const dir = mkdtempSync(join(tmpdir(), 'der-fuzz-'));
  const db = openDatabase(join(dir, 'terminal.db'));
  const store = new CrlStore(db);
  const caCertificateDer = originals['ca-certificate'];
  const cache = new CrlCache({
    store,
    caCertificateDer,
    builtinCrlDer: crl,
    now: () => new Date(NOW * 1000),
  });
  const card = makeFuzzCard('card (no update key)', cards.templates.noUpdateKey);
  card.sim.os.powerUp();
  const select = card.sim.os.transmit(
    encodeCommandApdu({ cla: CLA_ISO, ins: INS.SELECT, p1: 4, p2: 0, data: SETTLEMENT_AID, ne: 256 }),
  );
  if (parseResponseApdu(select).sw !== SW.OK) throw new Error('the card does not select');
  return {
    originals,
    trees,
    donors,
    caPublicKey: p256PublicKey(fromHex(issuer.caPrivateKey)),
    card,
    cache,
    store,
    issuerKeyId: cache.issuerKeyId,
    revokedCertificate: fromHex(cards.templates.newer.certificate),
    dir,
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The mutated bytes of one case. */
export function derCaseBytes(fx: Pick<DerFixture, 'trees' | 'donors'>, c: DerCase): Uint8Array {
  const { tree, damaged } = editTree(fx.trees[c.target], c.tree, fx.donors);
  return applyByteEdits(serialize(tree, damaged), c.bytes);
}

export function runDerCase(fx: DerFixture, c: DerCase, stats = new FuzzStats()): void {
  const bytes = derCaseBytes(fx, c);
  const unchanged = equalBytes(bytes, fx.originals[c.target]);
  stats.add(unchanged ? 'unchanged bytes' : `${c.target} via ${c.path}`);
  if (c.target === 'crl') {
    checkCrl(fx, c.path, bytes, unchanged, stats);
    return;
  }

  const parsed = attempt(() => parseCertificate(bytes), PARSE_CODES, 'parseCertificate', stats);
  if (parsed && !unchanged) {
    stats.add('changed certificate parsed');
    invariant(
      !verifyCertificateSignature(parsed, fx.caPublicKey),
      'changed certificate bytes parse and verify',
    );
  }
  const at = new Date(NOW * 1000);
  const checked = attempt(
    () => checkCardCertificate(bytes, { caPublicKey: fx.caPublicKey, at }),
    CHECK_CODES,
    'checkCardCertificate',
    stats,
  );
  invariant(
    !checked || (unchanged && c.target === 'card-certificate'),
    'checkCardCertificate accepted a changed or CA certificate',
  );
  if (c.path === 'card') checkOnCard(fx, bytes, unchanged && c.target === 'card-certificate', stats);
}

function checkCrl(
  fx: DerFixture,
  path: DerPath,
  bytes: Uint8Array,
  unchanged: boolean,
  stats: FuzzStats,
): void {
  const parsed = attempt(() => parseCrl(bytes), PARSE_CODES, 'parseCrl', stats);
  if (parsed && !unchanged) {
    stats.add('changed CRL parsed');
    invariant(!verifyCrlSignature(parsed, fx.caPublicKey), 'changed CRL bytes parse and verify');
  }
  if (path === 'parse') return;

  const before = { status: JSON.stringify(fx.cache.status()), stored: fx.store.currentCrl(fx.issuerKeyId) };
  const imported = attempt(() => importVia(fx, path, bytes), IMPORT_CODES, `CRL ${path}`, stats);
  if (imported) {
    invariant(unchanged, `CRL ${path} accepted changed bytes`);
    return;
  }
  // A refused CRL changes nothing: the good one is still the cache's, with its revocations.
  const after = fx.store.currentCrl(fx.issuerKeyId);
  invariant(
    JSON.stringify(fx.cache.status()) === before.status,
    `refused CRL ${path} changed the cache status`,
  );
  invariant(
    after !== undefined &&
      before.stored !== undefined &&
      after.crlNumber === before.stored.crlNumber &&
      equalBytes(after.der, before.stored.der),
    `refused CRL ${path} replaced the stored CRL`,
  );
  const revoked = attempt(
    () => fx.cache.checkCertificate(parseCertificate(fx.revokedCertificate)),
    ['E_PKI_REVOKED'],
    'revocation check after a refused import',
    stats,
  );
  invariant(revoked === undefined, 'a revoked card passes the CRL check after a refused import');
}

function importVia(fx: DerFixture, path: DerPath, bytes: Uint8Array) {
  if (path === 'import-der') return fx.cache.importDer(bytes, 'file');
  const file = join(fx.dir, 'crl.in');
  writeFileSync(file, path === 'import-pem-file' ? toPem('X509 CRL', bytes) : bytes);
  return fx.cache.importFile(file);
}

/** BEGIN KEY UPDATE, public-key route: the card checks the peer certificate against its CA key. */
function checkOnCard(fx: DerFixture, certificate: Uint8Array, acceptable: boolean, stats: FuzzStats): void {
  const before = fx.card.image();
  const apdu = encodeCommandApdu({
    cla: 0x80,
    ins: INS.BEGIN_KEY_UPDATE,
    p1: KEY_ROUTE.PUBLIC_KEY,
    p2: 0,
    data: concat(u32(NOW), certificate),
    ne: 256,
  });
  let raw: Uint8Array;
  try {
    raw = fx.card.sim.os.transmit(apdu);
  } catch (e) {
    throw new Error(`the card OS threw ${(e as Error)?.message}`);
  }
  invariant(raw.length >= 2, 'the card answered without a status word');
  const { sw } = parseResponseApdu(raw);
  stats.add(`card answered ${swHex(sw)}`);
  invariant(sw !== SW.UNKNOWN, 'the card answered 6F00: an exception inside its certificate check');
  if (sw === SW.OK) invariant(acceptable, 'the card accepted a changed, foreign or CA certificate');
  else {
    const refusals: number[] = [SW.INCORRECT_DATA, SW.SECURITY_STATUS_NOT_SATISFIED, SW.WRONG_LENGTH];
    invariant(refusals.includes(sw), `the card refused with ${swHex(sw)}`);
    invariant(!acceptable, `the card refused its peer's genuine certificate (${swHex(sw)})`);
  }
  invariant(fx.card.image() === before, 'BEGIN KEY UPDATE changed persistent state');
}

/** Runs `work`; a refusal must be a TerminalError with one of `codes`; returns undefined then. */
function attempt<T>(
  work: () => T,
  codes: readonly ErrorCode[],
  what: string,
  stats: FuzzStats,
): T | undefined {
  try {
    return work();
  } catch (e) {
    invariant(
      e instanceof TerminalError,
      `${what} threw ${(e as Error)?.name ?? typeof e}: ${(e as Error)?.message ?? String(e)} (not a TerminalError)`,
    );
    invariant(codes.includes(e.code), `${what} refused with ${e.code}: ${e.message}`);
    stats.add(`${what}: ${e.code}`);
    return undefined;
  }
}
