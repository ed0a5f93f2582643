// Issuance (migration 006; docs/issuer-host.md, "Issuance"): the issuer's value creation as a ledger
// event. Personalizing a card with a balance creates e-money; recording it moves that amount from the
// issuer account of its currency (kind 'issuer': its balance is minus the e-money outstanding) to the
// card's account, so a card's ledger balance is its whole balance and the ledger still sums to zero.
//
// A card is issued once. Recording the same issuance again (a retried request, a second host instance)
// answers the row already there (`replayed`); other terms for a card already issued are refused with
// E_ISSUANCE_CONFLICT and change nothing. The unique holder ID decides a race between instances: the
// loser's INSERT waits for the winner's commit and then finds its row.
//
// In-process callers (the demo host, the soak) call recordIssuance with a HostDatabase; the issuer's
// staff reach it through POST /admin/ledger/issuances (issuance-routes.ts), which takes the card's
// certificate and checks it against the issuer CA first (cardOfCertificate).
import { toHex } from '../../protocol/bytes.js';
import { TerminalError } from '../../protocol/errors.js';
import { MAX_ISSUANCE_AMOUNT } from '../../protocol/host-link/issuance-wire.js';
import {
  type ParsedCertificate,
  parseCertificate,
  verifyCertificateSignature,
} from '../../protocol/pki/index.js';
import { appendAuditEvent } from '../db/audit-log.js';
import type { HostDatabase, Sql } from '../db/host-database.js';
import { accountId } from '../db/ledger-records.js';

/** The issuer account's ref: one account per currency, the issuer's float. */
export const ISSUER_ACCOUNT_REF = 'e-money';

export interface IssuanceInput {
  /** The card's holder ID, 32 hex digits. */
  holderId: string;
  /** ISO 4217 numeric. */
  currency: number;
  /** Minor units, 1 to MAX_ISSUANCE_AMOUNT. */
  amount: number | bigint;
  /** The card certificate's serial and end, when it was shown. */
  certificateSerial?: bigint;
  notAfter?: Date;
}

export interface Issuance {
  issuanceId: bigint;
  holderId: string;
  currency: number;
  amount: bigint;
  certificateSerial: bigint | null;
  notAfter: Date | null;
  recordedBy: string;
  recordedAt: Date;
}

export interface IssuanceResult {
  issuance: Issuance;
  /** True when this card's issuance was recorded before, with the same terms: nothing was written. */
  replayed: boolean;
}

/**
 * Records a card's issuance: the issuance row (a movement from the issuer account to the card's) and
 * an audit event, in one transaction. Idempotent by card.
 */
export async function recordIssuance(
  db: HostDatabase,
  input: IssuanceInput & { actor: string; now?: Date },
): Promise<IssuanceResult> {
  const terms = checkedTerms(input);
  const now = input.now ?? new Date();
  return db.transaction(async (tx) => {
    const issuerAccount = await accountId(tx, 'issuer', ISSUER_ACCOUNT_REF, terms.currency);
    const cardAccount = await accountId(tx, 'card', terms.holderId, terms.currency);
    const [made] = await tx.query<IssuanceRow>(
      `INSERT INTO ledger_issuances (holder_id, currency, amount, certificate_serial, not_after,
         issuer_account, card_account, recorded_by, recorded_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING *`,
      [
        terms.holderId,
        terms.currency,
        terms.amount,
        terms.certificateSerial?.toString() ?? null,
        terms.notAfter ?? null,
        issuerAccount,
        cardAccount,
        input.actor,
        now,
      ],
    );
    if (made) {
      const issuance = issuanceOf(made);
      await appendAuditEvent(tx, {
        kind: 'ledger.issued',
        severity: 'info',
        actor: input.actor,
        subject: issuance.holderId,
        detail: {
          currency: issuance.currency,
          amount: issuance.amount.toString(),
          ...(issuance.certificateSerial !== null ? { serial: issuance.certificateSerial.toString() } : {}),
        },
      });
      return { issuance, replayed: false };
    }
    // The card (or the certificate) is issued already: the same terms are a replay, others a conflict.
    const [existing] = await tx.query<IssuanceRow>(
      `SELECT * FROM ledger_issuances WHERE holder_id = $1 OR certificate_serial = $2
        ORDER BY holder_id = $1 DESC LIMIT 1`,
      [terms.holderId, terms.certificateSerial?.toString() ?? null],
    );
    if (!existing) {
      throw new TerminalError(
        'E_INTERNAL',
        `the issuance of card ${terms.holderId} was refused for no known reason`,
      );
    }
    const issuance = issuanceOf(existing);
    if (!sameTerms(issuance, terms)) {
      throw new TerminalError(
        'E_ISSUANCE_CONFLICT',
        issuance.holderId === terms.holderId
          ? `card ${terms.holderId} was issued already (${issuance.amount} in currency ${issuance.currency}, recorded ${issuance.recordedAt.toISOString()}): a card is issued once`
          : `certificate serial ${terms.certificateSerial} belongs to card ${issuance.holderId}, issued already`,
        { holderId: issuance.holderId, issuanceId: issuance.issuanceId.toString() },
      );
    }
    return { issuance, replayed: true };
  });
}

function checkedTerms(input: IssuanceInput): Required<Pick<IssuanceInput, 'holderId' | 'currency'>> & {
  amount: bigint;
  certificateSerial?: bigint;
  notAfter?: Date;
} {
  const holderId = input.holderId.toUpperCase();
  if (!/^[0-9A-F]{32}$/.test(holderId))
    throw new TerminalError('E_INPUT_INVALID', 'the holder ID is 16 bytes of hex');
  if (!Number.isInteger(input.currency) || input.currency < 1 || input.currency > 999)
    throw new TerminalError('E_INPUT_INVALID', 'the currency is an ISO 4217 numeric code, 1 to 999');
  if (typeof input.amount === 'number' && !Number.isSafeInteger(input.amount))
    throw new TerminalError('E_INPUT_INVALID', 'the amount is an integer number of minor units');
  const amount = BigInt(input.amount);
  if (amount < 1n || amount > BigInt(MAX_ISSUANCE_AMOUNT))
    throw new TerminalError('E_INPUT_INVALID', `the amount is 1 to ${MAX_ISSUANCE_AMOUNT} minor units`);
  if (input.certificateSerial !== undefined && input.certificateSerial < 0n)
    throw new TerminalError('E_INPUT_INVALID', 'a certificate serial is not negative');
  return {
    holderId,
    currency: input.currency,
    amount,
    ...(input.certificateSerial !== undefined ? { certificateSerial: input.certificateSerial } : {}),
    ...(input.notAfter !== undefined ? { notAfter: input.notAfter } : {}),
  };
}

function sameTerms(a: Issuance, b: ReturnType<typeof checkedTerms>): boolean {
  return (
    a.holderId === b.holderId &&
    a.currency === b.currency &&
    a.amount === b.amount &&
    a.certificateSerial === (b.certificateSerial ?? null) &&
    (a.notAfter?.getTime() ?? null) === (b.notAfter?.getTime() ?? null)
  );
}

/**
 * A card certificate the issuer CA signed: its holder ID, serial and end. Validity is not checked:
 * an issuance may be recorded after the card expired (made offline, recorded later).
 */
export function cardOfCertificate(
  der: Uint8Array,
  ca: ParsedCertificate,
): { holderId: string; certificateSerial: bigint; notAfter: Date } {
  const cert = parseCertificate(der);
  if (!verifyCertificateSignature(cert, ca.publicKey)) {
    throw new TerminalError('E_PKI_SIGNATURE', 'the card certificate does not verify against the issuer CA', {
      serial: cert.serial.toString(),
    });
  }
  if (cert.isCa || !cert.holderId) {
    throw new TerminalError('E_PKI_UNSUPPORTED', 'not a card certificate (no holder ID, or a CA)');
  }
  return {
    holderId: toHex(cert.holderId),
    certificateSerial: cert.serial,
    notAfter: cert.notAfter,
  };
}

interface IssuanceRow {
  issuance_id: bigint;
  holder_id: string;
  currency: number;
  amount: bigint;
  certificate_serial: string | null;
  not_after: Date | null;
  recorded_by: string;
  recorded_at: Date;
}

function issuanceOf(r: IssuanceRow): Issuance {
  return {
    issuanceId: r.issuance_id,
    holderId: r.holder_id,
    currency: r.currency,
    amount: r.amount,
    certificateSerial: r.certificate_serial === null ? null : BigInt(r.certificate_serial),
    notAfter: r.not_after,
    recordedBy: r.recorded_by,
    recordedAt: r.recorded_at,
  };
}

/** Issuances, oldest first, optionally of one card. */
export async function listIssuances(
  sql: Sql,
  filter: { holderId?: string; afterId?: bigint; limit?: number } = {},
): Promise<Issuance[]> {
  const rows = await sql.query<IssuanceRow>(
    `SELECT * FROM ledger_issuances WHERE issuance_id > $1 AND ($2::text IS NULL OR holder_id = $2)
      ORDER BY issuance_id LIMIT $3`,
    [filter.afterId ?? 0n, filter.holderId ?? null, filter.limit ?? 1000],
  );
  return rows.map(issuanceOf);
}
