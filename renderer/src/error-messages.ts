// Every error code the terminal can report, in the operator's words: what happened and what to do.
// The screen shows this first, then the service's own message and the code for support
// (docs/error-codes.md). test/ui/error-messages.test.ts keeps the map complete: one entry per code
// of protocol/errors.ts, no entry for a code that does not exist.
import type { ErrorInfo } from '../../electron/ipc/contract.js';
import { sentence } from './format.js';
import { roleMessage } from './role-messages.js';

export interface OperatorMessage {
  /** What happened, in a shop clerk's words. */
  what: string;
  /** What to do now. */
  todo: string;
}

export const OPERATOR_MESSAGES: Readonly<Record<string, OperatorMessage>> = {
  E_INPUT_INVALID: {
    what: 'The terminal did not accept what was entered.',
    todo: 'Check the value and enter it again.',
  },
  E_APDU_MALFORMED: {
    what: 'A card gave an answer the terminal cannot read.',
    todo: 'Take the card out, insert it again and retry. If it happens again, the card may be faulty.',
  },
  E_PKI_MALFORMED: {
    what: 'A card certificate or the revocation list is damaged.',
    todo: 'Do not accept this card. Refresh the revocation list; if the card is at fault, send the customer to the issuer.',
  },
  E_PKI_UNSUPPORTED: {
    what: 'A card certificate or the revocation list uses a format this terminal does not accept.',
    todo: 'Do not accept this card; call support.',
  },
  E_PKI_SIGNATURE: {
    what: 'A card certificate or the revocation list is not signed by the card issuer.',
    todo: 'Do not accept this card: it may be forged. Call support.',
  },
  E_PKI_EXPIRED: {
    what: 'A card certificate has expired.',
    todo: 'Do not accept this card; the customer needs a new card from the issuer.',
  },
  E_PKI_REVOKED: {
    what: 'A card has been revoked by its issuer and cannot be used.',
    todo: 'Do not accept this card; send the customer to the issuer.',
  },
  E_CRL_STALE: {
    what: 'The revocation list is out of date.',
    todo: 'Press “Refresh CRL” in the Revocation list tab, then try again.',
  },
  E_CARD_STATUS: {
    what: 'A card refused the operation.',
    todo: 'Check that both cards are inserted the right way round and try again.',
  },
  E_CARD_STATE: {
    what: 'A simulated card’s file is missing or damaged.',
    todo: 'Call support.',
  },
  E_CARD_EXPIRED: {
    what: 'A card is past its validity date.',
    todo: 'Do not accept this card; the customer needs a new card from the issuer.',
  },
  E_CARD_VERSION: {
    what: 'The card runs an older version of the payment application that this terminal no longer accepts.',
    todo: 'Do not accept this card; the card holder asks the issuer to update or replace it.',
  },
  E_CARD_IN_USE: {
    what: 'A card is held by another program on this computer (the card tool, or a second terminal).',
    todo: 'Finish or stop that program (the message names it), then insert the card again.',
  },
  E_SAME_CARD: {
    what: 'The same card is in both slots.',
    todo: 'Put the customer’s card in the payer slot and the shop’s card in the payee slot.',
  },
  E_CURRENCY_MISMATCH: {
    what: 'The cards hold a different currency from each other or from this terminal.',
    todo: 'This card cannot be used here.',
  },
  E_INSUFFICIENT_FUNDS: {
    what: 'The payer card does not hold enough for this amount.',
    todo: 'Enter a smaller amount or ask for another means of payment.',
  },
  E_BALANCE_LIMIT: {
    what: 'The payee card cannot take this amount: it would go over its maximum balance.',
    todo: 'Enter a smaller amount, or empty the shop card first.',
  },
  E_REFUND_LIMIT: {
    what: 'This refund is more than what is left of the sale.',
    todo: 'Check the sale in the refund window: refund at most what it still shows.',
  },
  E_KEY_LIMIT: {
    what: 'A card has reached its last key and cannot be updated any more.',
    todo: 'The card must be replaced: send the customer to the issuer.',
  },
  E_PIN_WRONG: {
    what: 'Wrong PIN.',
    todo: 'Ask the card holder to enter the PIN again. The card blocks the PIN after the last try.',
  },
  E_PIN_BLOCKED: {
    what: 'The card’s PIN is blocked after too many wrong tries.',
    todo: 'The card cannot be used with a PIN here: the card holder must ask the issuer to unblock it.',
  },
  E_PIN_REQUIRED: {
    what: 'The card needs its holder’s PIN for this payment: it is above what the card pays without one.',
    todo: 'Ask the card holder to enter the PIN, then take the payment again.',
  },
  E_ACCESS_DENIED: {
    what: 'The card does not allow this at the current access level.',
    todo: 'Ask the card holder to log in with the PIN, or open an issuer session, then try again.',
  },
  E_BUSY: {
    what: 'The cards are busy with another operation (perhaps from another window).',
    todo: 'Wait until it has finished, then try again. Nothing was done for this request.',
  },
  E_READER_UNAVAILABLE: {
    what: 'A card reader is not available.',
    todo: 'Check the reader’s cable; if it stays unavailable, restart the terminal.',
  },
  E_CARD_ABSENT: {
    what: 'A card is missing.',
    todo: 'Insert both cards and try again.',
  },
  E_TRANSPORT_TIMEOUT: {
    what: 'A card did not answer in time.',
    todo: 'Leave both cards in place and try again; if value is in doubt, press “Recover”.',
  },
  E_TRANSPORT: {
    what: 'The connection to a card was interrupted.',
    todo: 'Put the cards back and try again; if value is in doubt, press “Recover”.',
  },
  E_DISCONNECTED: {
    what: 'The screen lost its connection to the terminal.',
    todo: 'Wait until the screen says “Connected” again, then check the log before you repeat anything: what was asked may have been done.',
  },
  E_DB: {
    what: 'The transaction log could not be written.',
    todo: 'Stop taking payments and call support.',
  },
  E_DB_TOO_NEW: {
    what: 'The transaction log belongs to a newer version of this terminal.',
    todo: 'Call support to update the terminal.',
  },
  E_LOG_TAMPERED: {
    what: 'The transaction log does not verify: an entry was changed or removed.',
    todo: 'Stop taking payments and call support at once.',
  },
  E_TERMINAL_IN_USE: {
    what: 'Another terminal program is running on this terminal’s log and cards.',
    todo: 'Use that terminal (the message names it), or stop it before starting this one.',
  },
  // The issuer host: the terminal reaches it only in the background (uploads, CRL), never in a sale.
  E_HOST_DB: {
    what: 'The issuer’s host could not store or read its data.',
    todo: 'Carry on selling; the terminal tries again later. If it lasts, tell the issuer.',
  },
  E_HOST_DB_TOO_NEW: {
    what: 'The issuer’s host is being updated and cannot serve this terminal yet.',
    todo: 'Carry on selling; the terminal tries again later.',
  },
  E_AUTH_MISSING: {
    what: 'The issuer’s host was asked something without the terminal’s credentials.',
    todo: 'Call support: the terminal’s host link is not set up.',
  },
  E_AUTH_INVALID: {
    what: 'The issuer’s host did not accept this terminal’s signature.',
    todo: 'Call support: the terminal’s key may not be the one registered at the issuer.',
  },
  E_AUTH_UNKNOWN_TERMINAL: {
    what: 'The issuer’s host does not know this terminal.',
    todo: 'Ask the issuer to register the terminal, then try again.',
  },
  E_AUTH_REVOKED: {
    what: 'The issuer has revoked this terminal’s access to its host.',
    todo: 'Call the issuer.',
  },
  E_AUTH_STALE: {
    what: 'The terminal’s clock is too far from the issuer’s host’s.',
    todo: 'Set the terminal’s date and time correctly, then try again.',
  },
  E_AUTH_REPLAY: {
    what: 'The issuer’s host refused a repeated request from this terminal.',
    todo: 'Try again; if it happens again, call support.',
  },
  E_AUTH_FORBIDDEN: {
    what: 'The issuer’s host does not allow this terminal to do that.',
    todo: 'Call support with the code.',
  },
  E_REQUEST_TOO_LARGE: {
    what: 'The issuer’s host refused a request as too large.',
    todo: 'Call support with the code.',
  },
  E_NOT_FOUND: {
    what: 'The issuer’s host has nothing at the address asked for.',
    todo: 'Check the host address in the configuration, or call support.',
  },
  E_CONFLICT: {
    what: 'The issuer’s host already has this, or its state does not allow the change.',
    todo: 'Refresh and look again before retrying.',
  },
  E_CRL_NOT_NEWER: {
    what: 'The revocation list offered is not newer than the one in force.',
    todo: 'Nothing to do: the newer list stays in force.',
  },
  E_HOST_PIN: {
    what: 'The server answering as the issuer’s host is not the issuer’s host.',
    todo: 'Do not change any setting; call support at once. Sales go on with the revocation list the terminal has.',
  },
  E_UPLOAD_GAP: {
    what: 'The issuer’s host is missing journal entries before this upload.',
    todo: 'Nothing to do: the terminal sends them again from where the host stopped. If it stays, call support.',
  },
  E_UPLOAD_EDITED: {
    what: 'The issuer’s host refused the journal upload: an entry is not as the terminal wrote it.',
    todo: 'Do not change anything on the terminal; call support with the code. Sales go on.',
  },
  E_UPLOAD_FORK: {
    what: 'The issuer’s host refused the journal upload: this terminal’s log differs from what it sent before.',
    todo: 'Was the terminal restored from a copy? Call support with the code. Sales go on.',
  },
  E_UPLOAD_PROOF: {
    what: 'The issuer’s host refused the journal upload: a card proof in it is not genuine.',
    todo: 'Run Recover with the cards of open payments if they are here; otherwise call support with the code. Sales go on.',
  },
  E_ISSUANCE_CONFLICT: {
    what: 'The issuer’s host already holds this card’s issuance, with other terms.',
    todo: 'Nothing to do at the till; the issuer’s staff check the card’s issuance.',
  },
  E_INTERNAL: {
    what: 'Something unexpected went wrong in the terminal.',
    todo: 'Try again; if it happens again, call support with the code.',
  },
};

/** Where a code means something narrower than in general: the words of one action. */
export type MessageContext = Readonly<Record<string, OperatorMessage>>;

const CRL_OFFLINE = 'The terminal keeps checking cards against the list it has; try again later.';

/** Refreshing the CRL talks to a server, not to a card. */
export const CRL_REFRESH_MESSAGES: MessageContext = {
  E_INPUT_INVALID: {
    what: 'No address to download the revocation list from is configured.',
    todo: 'Import a CRL file with the terminal CLI (crl-import), or set crl.distributionPoint in the configuration.',
  },
  E_TRANSPORT: { what: 'The revocation list could not be downloaded.', todo: CRL_OFFLINE },
  E_TRANSPORT_TIMEOUT: { what: 'The revocation list server did not answer in time.', todo: CRL_OFFLINE },
};

/** An issuer session needs the card's own issuer card in the other slot. */
export const ISSUER_SESSION_MESSAGES: MessageContext = {
  E_ACCESS_DENIED: {
    what: 'The other card is not this card’s issuer card: no issuer session.',
    todo: 'Put the issuer card of this card in the other slot, or ask the card holder for the PIN.',
  },
};

/** The kiosk's exit PIN belongs to the operator, not to a card. */
export const KIOSK_EXIT_MESSAGES: MessageContext = {
  E_PIN_WRONG: {
    what: 'Wrong exit PIN.',
    todo: 'Enter the operator’s exit PIN again. After too many wrong tries the terminal waits before it takes another.',
  },
  E_PIN_BLOCKED: {
    what: 'Too many wrong exit PINs.',
    todo: 'Wait a few minutes, then enter the exit PIN again.',
  },
  E_INPUT_INVALID: {
    what: 'This terminal cannot leave kiosk mode from here.',
    todo: 'Call support.',
  },
};

/** What the operator reads for an error: the message for its code, the service's detail, the code. */
export function explain(
  error: ErrorInfo,
  context: MessageContext = {},
): OperatorMessage & { detail: string; code: string } {
  const known =
    roleMessage(error) ??
    context[error.code] ??
    OPERATOR_MESSAGES[error.code] ??
    OPERATOR_MESSAGES.E_INTERNAL!;
  return { ...known, detail: sentence(error.message), code: error.code };
}
