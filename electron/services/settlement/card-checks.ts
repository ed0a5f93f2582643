// The terminal's acceptance checks on a card before any key update or value transfer (seed S1003:
// term of validity; seed embodiment 2: certificate checked against the CA and the CRL).
import { toHex } from '../../../protocol/bytes.js';
import { TerminalError } from '../../../protocol/errors.js';
import { type ParsedCertificate, verifyCertificateSignature } from '../../../protocol/pki/index.js';
import { isExpired } from '../../../protocol/settlement/validity-date.js';
import type { CardSession } from './card-session.js';

export type CertificateStatus = 'valid' | 'revoked' | 'expired' | 'crl-stale' | 'invalid';

/** What the CRL cache offers the checks (electron/services/crl/crl-cache.ts implements it). */
export interface RevocationChecker {
  checkCertificate(cert: CardSession['certificate']): { revoked: false; warning?: string };
}

export interface CardCheckContext {
  caPublicKey: Uint8Array;
  crl: RevocationChecker;
  /** Unix seconds. */
  now: number;
}

/** Throws a TerminalError naming the slot if the card must be refused; returns CRL warnings. */
export function checkCard(session: CardSession, ctx: CardCheckContext): string[] {
  if (isExpired(session.info.validity, ctx.now)) {
    throw new TerminalError(
      'E_CARD_EXPIRED',
      `the ${session.slot} card expired on ${session.info.validity}`,
      {
        slot: session.slot,
        holderId: session.holderIdHex,
      },
    );
  }
  return checkCertificateOf(session, ctx);
}

/**
 * The CA keys (hex) each certificate's signature verified under. A certificate is parsed once per card
 * presence (card-session.ts), so its signature is checked once per presence; its validity period and
 * revocation, which depend on the date and the CRL, every time.
 */
const verifiedSignatures = new WeakMap<ParsedCertificate, Set<string>>();

function signatureVerifies(cert: ParsedCertificate, caPublicKey: Uint8Array): boolean {
  const ca = toHex(caPublicKey);
  const verified = verifiedSignatures.get(cert);
  if (verified?.has(ca)) return true;
  if (!verifyCertificateSignature(cert, caPublicKey)) return false;
  if (verified) verified.add(ca);
  else verifiedSignatures.set(cert, new Set([ca]));
  return true;
}

/** Signature by the CA, validity period and revocation of the card's certificate. */
export function checkCertificateOf(session: CardSession, ctx: CardCheckContext): string[] {
  const details = {
    slot: session.slot,
    holderId: session.holderIdHex,
    serial: session.certificate.serial.toString(),
  };
  const cert = session.certificate;
  if (!signatureVerifies(cert, ctx.caPublicKey)) {
    throw new TerminalError(
      'E_PKI_SIGNATURE',
      `the ${session.slot} card's certificate is not signed by the issuer CA`,
      details,
    );
  }
  const at = ctx.now * 1000;
  if (at < cert.notBefore.getTime() || at > cert.notAfter.getTime()) {
    throw new TerminalError(
      'E_PKI_EXPIRED',
      `the ${session.slot} card's certificate is outside its validity`,
      details,
    );
  }
  try {
    const result = ctx.crl.checkCertificate(cert);
    return result.warning ? [result.warning] : [];
  } catch (e) {
    if (e instanceof TerminalError) {
      throw new TerminalError(e.code, `the ${session.slot} card: ${e.message}`, { ...e.details, ...details });
    }
    throw e;
  }
}

/** Certificate status for display; never throws. */
export function certificateStatus(session: CardSession, ctx: CardCheckContext): CertificateStatus {
  try {
    checkCertificateOf(session, ctx);
    return 'valid';
  } catch (e) {
    const code = e instanceof TerminalError ? e.code : undefined;
    if (code === 'E_PKI_REVOKED') return 'revoked';
    if (code === 'E_PKI_EXPIRED') return 'expired';
    if (code === 'E_CRL_STALE') return 'crl-stale';
    return 'invalid';
  }
}
