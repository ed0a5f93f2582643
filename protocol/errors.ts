// Typed errors with codes an operator or support engineer can look up in docs/error-codes.md.
// Every refusal the terminal or the card tooling reports carries one of these codes, never a bare string.

export const ERROR_CODES = {
  // Input that does not parse or validate
  E_INPUT_INVALID: 'A value given on the command line, over IPC or in a file is not valid.',
  E_APDU_MALFORMED: 'A card response could not be parsed (too short, bad TLV, wrong length).',
  // Certificates and CRLs
  E_PKI_MALFORMED: 'A certificate or CRL is not well-formed DER of the expected structure.',
  E_PKI_UNSUPPORTED: 'A certificate or CRL uses an algorithm or version this terminal does not accept.',
  E_PKI_SIGNATURE: 'A certificate or CRL signature does not verify against the issuer CA key.',
  E_PKI_EXPIRED: 'A certificate is outside its validity period.',
  E_PKI_REVOKED: 'A certificate serial is on the CA revocation list.',
  E_CRL_STALE: 'The CRL is past its nextUpdate time.',
  // Cards
  E_CARD_STATUS: 'The card refused a command; the status word says why.',
  E_CARD_STATE: 'A card state file is missing, unreadable or inconsistent.',
  E_CARD_EXPIRED: 'The card is past its term of validity.',
  E_CARD_VERSION:
    'The card (or card file) runs an older version of the settlement application; the issuer migrates or replaces it.',
  E_CARD_IN_USE:
    'The card (a simulated card file) is held in a reader by another running program: use that program, or stop it first.',
  E_SAME_CARD: 'The same card is in both slots.',
  E_CURRENCY_MISMATCH: 'The cards hold purses of different currencies, or not the terminal currency.',
  E_INSUFFICIENT_FUNDS: 'The payer card does not hold enough value for the amount.',
  E_BALANCE_LIMIT: 'The payee card would exceed its maximum balance.',
  E_REFUND_LIMIT: 'A refund would pay back more than is left of the sale it names.',
  E_KEY_LIMIT:
    'A card cannot take the newer transfer key: its key ID upper limit is reached; the card must be replaced.',
  E_PIN_WRONG: 'The PIN (or unblock code) was wrong; the card counts the tries left.',
  E_PIN_BLOCKED: 'The PIN is blocked after too many wrong tries; the issuer can unblock it.',
  E_PIN_REQUIRED:
    'The card needs its holder’s PIN for this payment (above its no-PIN limits); verify the PIN and try again.',
  E_ACCESS_DENIED:
    'The card refuses this at the current access level: log in as owner or authenticate the issuer.',
  E_BUSY: 'Another operation is running on the terminal; wait for it to finish.',
  // Readers and transport
  E_READER_UNAVAILABLE: 'The reader is not connected or pcscd is not running.',
  E_CARD_ABSENT: 'No card is present in the reader.',
  E_TRANSPORT_TIMEOUT: 'The card did not answer within the waiting time.',
  E_TRANSPORT: 'The exchange with a card, a reader or a server was interrupted.',
  E_DISCONNECTED:
    "The operator screen lost its link to the terminal's main process, or got no answer in time; what it asked may or may not have been done.",
  // Storage
  E_DB: 'The transaction log database refused an operation.',
  E_DB_TOO_NEW: 'The transaction log was written by a newer version of this terminal.',
  E_LOG_TAMPERED: 'The transaction log hash chain does not verify.',
  E_TERMINAL_IN_USE:
    'Another terminal is running on this terminal’s data (log, cards, issuing identity): use that terminal, or stop it first.',
  // Issuer host (issuer-host/) and the terminal's link to it
  E_HOST_DB: 'The issuer host’s database refused an operation or cannot be reached.',
  E_HOST_DB_TOO_NEW: 'The issuer host’s database was migrated by a newer version of the host.',
  E_AUTH_MISSING:
    'The request to the issuer host carries no credentials (terminal signature or staff token).',
  E_AUTH_INVALID:
    'The request’s credentials are malformed, its signature does not verify, or the staff token is unknown.',
  E_AUTH_UNKNOWN_TERMINAL: 'The terminal ID is not registered at the issuer host.',
  E_AUTH_REVOKED: 'The terminal or the staff token was revoked, or the token has expired.',
  E_AUTH_STALE: 'The request’s timestamp is outside the issuer host’s window: check the terminal clock.',
  E_AUTH_REPLAY: 'The request’s nonce was already used: a replayed request is refused.',
  E_AUTH_FORBIDDEN: 'The credentials are valid, but their role may not do this.',
  E_REQUEST_TOO_LARGE: 'The request body is larger than the issuer host accepts.',
  E_NOT_FOUND: 'The issuer host has no such resource.',
  E_CONFLICT: 'The resource already exists, or its state does not allow this change.',
  E_CRL_NOT_NEWER: 'The CRL’s number is not above the current CRL’s: the issuer host never rolls a CRL back.',
  E_HOST_PIN:
    'The issuer host’s TLS certificate does not match the pinned key: the server may be an impostor.',
  E_UPLOAD_GAP:
    'The upload would leave a gap in the terminal’s journal chain at the issuer host: send the entries after the host’s last one.',
  E_UPLOAD_EDITED:
    'An uploaded journal entry is not the one the terminal wrote (its bytes do not give its chain tag, or differ from what the issuer host holds).',
  E_UPLOAD_FORK:
    'The terminal’s journal forks from the chain the issuer host holds: the same entry numbers carry another history (a restored or copied log).',
  E_UPLOAD_PROOF:
    'An uploaded journal entry carries a card proof that no card made: a value-transfer MAC (acknowledgement, challenge, abort or release proof) that does not verify under the issuer’s transfer keys for the transfer’s terms, or an exchange’s signature that does not verify under the signing card’s certificate for the exchange’s terms, or a card certificate the issuer CA did not sign. The upload is refused whole and nothing of it is booked.',
  E_ISSUANCE_CONFLICT:
    'A card’s issuance is recorded already with other terms (amount, currency or certificate): a card is issued once.',
  E_INTERNAL: 'An unexpected internal error.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class TerminalError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'TerminalError';
  }

  toJSON(): { code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isTerminalError(e: unknown, code?: ErrorCode): e is TerminalError {
  return e instanceof TerminalError && (code === undefined || e.code === code);
}

/** The message of anything thrown: an Error's (or error-like object's) message, else its string form. */
export function errorMessage(e: unknown): string {
  const message = (e as { message?: unknown } | null | undefined)?.message;
  return typeof message === 'string' ? message : String(e);
}

/**
 * The one mapping from anything thrown to a TerminalError: a TerminalError is itself; anything else
 * (a bug, a library's own exception) is E_INTERNAL with its message. Code that knows better (a
 * PC/SC return code, a card's status word) maps first and hands the rest to this.
 */
export function toTerminalError(e: unknown): TerminalError {
  return isTerminalError(e) ? e : new TerminalError('E_INTERNAL', errorMessage(e));
}
