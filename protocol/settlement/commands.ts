// Command set of the settlement applet (docs/protocol.md is the normative table).
import { fromHex } from '../bytes.js';

/** Proprietary AID: RID F0 (unregistered, ISO/IEC 7816-5 category F) + "STLM" + the applet version. */
export const SETTLEMENT_AID = fromHex('F0 53 54 4C 4D 02');
export const APPLET_VERSION = 2;
/** The version-1 AID: a version-2 terminal selects it only to name a version-1 card it refuses. */
export const SETTLEMENT_AID_V1 = fromHex('F0 53 54 4C 4D 01');

export const CLA_ISO = 0x00;
export const CLA_PROPRIETARY = 0x80;

export const INS = {
  SELECT: 0xa4,
  GET_RESPONSE: 0xc0,
  GET_CARD_INFO: 0x10,
  GET_BALANCE: 0x12,
  BEGIN_KEY_UPDATE: 0x20,
  EXPORT_TRANSFER_KEY: 0x22,
  APPLY_KEY_UPDATE: 0x24,
  INITIATE_DEBIT: 0x30,
  INITIATE_CREDIT: 0x32,
  DEBIT: 0x34,
  CREDIT: 0x36,
  ACKNOWLEDGE_DEBIT: 0x38,
  ABORT_DEBIT: 0x3a,
  CANCEL_CREDIT: 0x3c,
  GET_TRANSACTION_STATUS: 0x3e,
  // Version 2: releases (the payee gives up; the payer or sender takes the proof back)
  RELEASE_CREDIT: 0x40,
  REFUND_DEBIT: 0x42,
  CONTENT_RELEASE: 0x44,
  CONTENT_RETURN: 0x46,
  // Seed 000: owner mode (ISO/IEC 7816-4 §11.5, CLA 00)
  VERIFY: 0x20,
  RESET_RETRY_COUNTER: 0x2c,
  // Seed 000: mutual authentication and session
  AUTH_BEGIN: 0x50,
  AUTH_PEER: 0x52,
  AUTH_CONFIRM: 0x54,
  SESSION_END: 0x56,
  // Seed 000: digital contents (version 1 used 60–66; INS 6X is invalid in ISO/IEC 7816-4)
  LIST_CONTENTS: 0x58,
  READ_CONTENT: 0x5a,
  UPDATE_CONTENT: 0x5c,
  CREATE_CONTENT: 0x5e,
  CONTENT_SEND: 0x70,
  CONTENT_RECEIVE: 0x72,
  CONTENT_COMMIT: 0x74,
  CONTENT_ACCEPT: 0x76,
  CONTENT_ABORT: 0x78,
  CONTENT_CANCEL: 0x7a,
  CONTENT_ACKNOWLEDGE: 0x7c,
  CONTENT_STATUS: 0x7e,
} as const;

/** P2 of VERIFY and RESET RETRY COUNTER: the owner PIN, a specific reference data (ISO 7816-4). */
export const PIN_REFERENCE = 0x80;

/** P1 of the three key-update commands: how the transfer key travels. */
export const KEY_ROUTE = {
  /** Embodiments 1, 3, 5: the transfer key wrapped under the shared update key (AES-128-GCM). */
  COMMON_KEY: 0x01,
  /** Embodiments 2, 3, 5: transfer key and update key encrypted to the receiver (ECIES) and signed. */
  PUBLIC_KEY: 0x02,
  /** Embodiment 4: only the ID of a transfer key the receiver already holds, under the update key. */
  PRESTORED_SWITCH: 0x03,
} as const;
export type KeyRoute = (typeof KEY_ROUTE)[keyof typeof KEY_ROUTE];

export const STATUS_QUERY = { ONE: 0x00, LIST_UNSETTLED: 0x01 } as const;

/** Tags of the GET CARD INFO response (BER-TLV, context-specific private class). */
export const TAG = {
  HOLDER_ID: 0xc0,
  VALIDITY: 0xc1,
  TRANSFER_KEY_ID: 0xc2,
  TRANSFER_KEY_ID_LIMIT: 0xc3,
  UPDATE_KEY_ID: 0xc4,
  UPDATE_KEY_ID_LIMIT: 0xc5,
  PRESTORED_KEY_IDS: 0xc6,
  CURRENCY: 0xc7,
  UNSETTLED: 0xc8,
  APPLET_VERSION: 0xc9,
  /** No-PIN limits: per payment 4 ‖ cumulative 4 ‖ consecutive 1 (absent on a card without PIN). */
  NO_PIN_LIMITS: 0xca,
  /** PIN state 1 ‖ tries left 1 ‖ no-PIN payments left 1 ‖ no-PIN amount left 4. */
  PIN_STATE: 0xcb,
  CERTIFICATE: 0x7f21,
  SEALED_KEYS: 0xd0,
  SIGNATURE: 0xd1,
  GRANT_SIGNATURE: 0xd2,
  GRANT_ID: 0xd3,
  GRANT_NOT_AFTER: 0xd4,
  SESSION_ID: 0xd5,
  ACCESS_LEVEL: 0xd6,
  PEER_ISSUER: 0xd7,
} as const;

export const HOLDER_ID_LENGTH = 16;

/** Transaction record status bytes returned by GET TRANSACTION STATUS. */
export const RECORD_STATUS = {
  DEBIT_OPEN: 0x01,
  DEBIT_DEBITED: 0x02,
  DEBIT_ACKNOWLEDGED: 0x03,
  DEBIT_ABORTED: 0x04,
  DEBIT_REFUNDED: 0x05,
  CREDIT_PENDING: 0x11,
  CREDIT_CREDITED: 0x12,
  CREDIT_CANCELLED: 0x13,
  CREDIT_RELEASED: 0x14,
} as const;
export type RecordStatus = (typeof RECORD_STATUS)[keyof typeof RECORD_STATUS];

/** Records a card keeps per log (debits, credits). Only settled records are ever evicted. */
export const LOG_CAPACITY = 8;
