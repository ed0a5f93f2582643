// Issuer operations: create the CA and key sets, personalize cards, revoke and publish CRLs.
import { readFileSync, writeFileSync } from 'node:fs';
import { fromHex, toHex } from '../../protocol/bytes.js';
import { generateP256KeyPair, p256PublicKey, randomBytes } from '../../protocol/crypto-suite.js';
import { errorMessage, TerminalError } from '../../protocol/errors.js';
import { createCaCertificate, createCrl, issueCardCertificate } from '../../protocol/pki/index.js';
import {
  DEFAULT_NO_PIN_LIMITS,
  type NoPinLimits,
  validNoPinLimits,
} from '../../protocol/settlement/cardholder-policy.js';
import { encodeValidity, validityEnd } from '../../protocol/settlement/validity-date.js';
import { type SettlementState, STATE_FORMAT } from '../applets/settlement/state.js';
import { type IssuerState, issuerStateSchema } from './issuer-state.js';

export interface CreateIssuerOptions {
  name: string;
  currency: number;
  /** How many update keys (IDs 1..n) and transfer keys (IDs 1..n) to generate. */
  updateKeys?: number;
  transferKeys?: number;
  now?: Date;
  caValidityYears?: number;
}

export function createIssuer(o: CreateIssuerOptions): IssuerState {
  const now = o.now ?? new Date();
  const ca = generateP256KeyPair();
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + (o.caValidityYears ?? 20));
  const caCertificate = createCaCertificate({
    commonName: `${o.name} Card CA`,
    privateKey: ca.privateKey,
    serial: 1n,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter,
  });
  const keySet = (n: number) =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i + 1), toHex(randomBytes(16))]));
  return {
    format: 1,
    name: o.name,
    currency: o.currency,
    issuerId: toHex(randomBytes(16)),
    caPrivateKey: toHex(ca.privateKey),
    authorityPrivateKey: toHex(generateP256KeyPair().privateKey),
    caCertificate: toHex(caCertificate),
    updateKeys: keySet(o.updateKeys ?? 2),
    transferKeys: keySet(o.transferKeys ?? 4),
    nextSerial: 2,
    nextCrlNumber: 1,
    issued: [],
    revoked: [],
  };
}

export function caPublicKey(issuer: IssuerState): Uint8Array {
  return p256PublicKey(fromHex(issuer.caPrivateKey));
}

export interface PersonalizeOptions {
  holderId?: Uint8Array;
  /** YYYYMMDD, last valid day. */
  validity: string;
  balance: number;
  maxBalance: number;
  transferKeyId: number;
  transferKeyIdLimit: number;
  /** Further transfer key IDs stored in advance (embodiment 4). */
  prestoredTransferKeyIds?: number[];
  /** 0 for a card without update key (public-key route only). */
  updateKeyId: number;
  updateKeyIdLimit: number;
  label?: string;
  now?: Date;
  /** Owner PIN (4–12 digits); without it the card has no owner mode. A PUK is generated with it. */
  pin?: string;
  pinTryLimit?: number;
  /**
   * The cardholder verification policy (docs/protocol.md §4.6) of a card with a PIN: what may be paid
   * without it. Default: DEFAULT_NO_PIN_LIMITS (25.00 a payment, 50.00 and three payments in all).
   * A card without PIN has no policy (a bearer purse): the limits are then not used.
   */
  noPinLimits?: NoPinLimits;
  /** Makes an issuer card for this issuer (issuer-role certificate), e.g. a shop's issuing card. */
  issuerCard?: boolean;
}

/** Builds a card's initial persistent state and records the issued certificate in the issuer state. */
export function personalizeCard(issuer: IssuerState, o: PersonalizeOptions): SettlementState {
  if (
    !Number.isInteger(o.balance) ||
    o.balance < 0 ||
    o.balance > o.maxBalance ||
    o.maxBalance > 0xffffffff
  ) {
    throw new TerminalError(
      'E_INPUT_INVALID',
      'balance must be an integer between 0 and the maximum balance',
    );
  }
  try {
    encodeValidity(o.validity);
  } catch {
    throw new TerminalError(
      'E_INPUT_INVALID',
      `term of validity "${o.validity}" is not a YYYYMMDD calendar date`,
    );
  }
  const key = (set: Record<string, string>, id: number, what: string) => {
    const k = set[String(id)];
    if (!k) throw new TerminalError('E_INPUT_INVALID', `issuer has no ${what} with ID ${id}`);
    return k;
  };
  const transferKeys: Record<string, string> = {
    [String(o.transferKeyId)]: key(issuer.transferKeys, o.transferKeyId, 'transfer key'),
  };
  for (const id of o.prestoredTransferKeyIds ?? []) {
    if (id <= o.transferKeyId || id > o.transferKeyIdLimit) {
      throw new TerminalError(
        'E_INPUT_INVALID',
        `pre-stored key ID ${id} must be newer than the current one and within the limit`,
      );
    }
    transferKeys[String(id)] = key(issuer.transferKeys, id, 'transfer key');
  }
  if (o.transferKeyId > o.transferKeyIdLimit) {
    throw new TerminalError('E_INPUT_INVALID', 'transfer key ID above its upper limit');
  }
  const holderId = o.holderId ?? randomBytes(16);
  const cardKeys = generateP256KeyPair();
  const serial = BigInt(issuer.nextSerial++);
  const now = o.now ?? new Date();
  const notAfter = new Date(validityEnd(o.validity) * 1000 - 1000);
  const certificate = issueCardCertificate({
    caPrivateKey: fromHex(issuer.caPrivateKey),
    caCertificateDer: fromHex(issuer.caCertificate),
    holderId,
    cardPublicKey: cardKeys.publicKey,
    serial,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter,
    commonName: o.label || undefined,
    issuerRole: o.issuerCard ? fromHex(issuer.issuerId) : undefined,
  });
  if (o.pin !== undefined && !/^\d{4,12}$/.test(o.pin))
    throw new TerminalError('E_INPUT_INVALID', 'the PIN is 4 to 12 digits');
  const tryLimit = o.pinTryLimit ?? 3;
  if (!Number.isInteger(tryLimit) || tryLimit < 1 || tryLimit > 15)
    throw new TerminalError('E_INPUT_INVALID', 'PIN try limit is 1 to 15');
  const limits = o.noPinLimits ?? DEFAULT_NO_PIN_LIMITS;
  if (!validNoPinLimits(limits))
    throw new TerminalError('E_INPUT_INVALID', 'no-PIN limits: amounts 0 to 4294967295, payments 0 to 255');
  const puk = o.pin === undefined ? undefined : randomDigits(8);
  issuer.issued.push({
    serial: serial.toString(),
    holderId: toHex(holderId),
    notAfter: notAfter.toISOString(),
    card: o.label || undefined,
    balance: o.balance,
    puk,
  });
  return {
    format: STATE_FORMAT,
    holderId: toHex(holderId),
    validity: o.validity,
    currency: issuer.currency,
    balance: o.balance,
    maxBalance: o.maxBalance,
    transferKeyId: o.transferKeyId,
    transferKeyIdLimit: o.transferKeyIdLimit,
    transferKeys,
    updateKeyId: o.updateKeyId,
    updateKeyIdLimit: o.updateKeyIdLimit,
    updateKey: o.updateKeyId !== 0 ? key(issuer.updateKeys, o.updateKeyId, 'update key') : undefined,
    caPublicKey: toHex(caPublicKey(issuer)),
    cardPrivateKey: toHex(cardKeys.privateKey),
    certificate: toHex(certificate),
    debitLog: [],
    creditLog: [],
    purseIssuerId: issuer.issuerId,
    issuerRole: o.issuerCard ? issuer.issuerId : undefined,
    owner: o.pin !== undefined && puk ? { pin: o.pin, tries: tryLimit, tryLimit } : undefined,
    puk: o.pin !== undefined && puk ? { puk, tries: 10, tryLimit: 10 } : undefined,
    cardholderPolicy: o.pin !== undefined && puk ? { ...limits, noPinTotal: 0, noPinCount: 0 } : undefined,
    authorityPublicKey: toHex(p256PublicKey(fromHex(issuer.authorityPrivateKey))),
    contents: [],
    contentLog: [],
    usedGrants: [],
  };
}

/** Uniformly random decimal digits (rejection sampling: no modulo bias). */
function randomDigits(n: number): string {
  let out = '';
  while (out.length < n) {
    for (const b of randomBytes(n)) if (b < 250 && out.length < n) out += String(b % 10);
  }
  return out;
}

export function revokeCertificate(
  issuer: IssuerState,
  serial: bigint,
  at = new Date(),
  reason?: number,
): void {
  if (!issuer.issued.some((c) => c.serial === serial.toString())) {
    throw new TerminalError('E_INPUT_INVALID', `no certificate with serial ${serial} was issued`);
  }
  if (issuer.revoked.some((r) => r.serial === serial.toString())) return;
  issuer.revoked.push({
    serial: serial.toString(),
    revokedAt: at.toISOString(),
    reason: reason || undefined,
  });
}

export function publishCrl(issuer: IssuerState, o: { now?: Date; validityDays?: number } = {}): Uint8Array {
  const now = o.now ?? new Date();
  const crl = createCrl({
    caPrivateKey: fromHex(issuer.caPrivateKey),
    caCertificateDer: fromHex(issuer.caCertificate),
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + (o.validityDays ?? 7) * 86_400_000),
    crlNumber: BigInt(issuer.nextCrlNumber++),
    revoked: issuer.revoked.map((r) => ({
      serial: BigInt(r.serial),
      revokedAt: new Date(r.revokedAt),
      reason: r.reason || undefined,
    })),
  });
  return crl;
}

export function loadIssuer(path: string): IssuerState {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TerminalError('E_INPUT_INVALID', `cannot read issuer file ${path}: ${errorMessage(e)}`);
  }
  const parsed = issuerStateSchema.safeParse(safeJson(raw));
  if (!parsed.success)
    throw new TerminalError('E_INPUT_INVALID', `issuer file ${path} is not valid`, {
      issues: parsed.error.issues,
    });
  return parsed.data;
}

export function saveIssuer(path: string, issuer: IssuerState): void {
  writeFileSync(path, `${JSON.stringify(issuerStateSchema.parse(issuer), null, 1)}\n`, { mode: 0o600 });
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
