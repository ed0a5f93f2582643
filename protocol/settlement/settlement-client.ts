// Terminal-side codec of the settlement applet: builds each command, sends it over any CardChannel,
// follows 61XX with GET RESPONSE, and decodes the answer. A status word other than 9000 becomes
// TerminalError('E_CARD_STATUS') carrying the SW; a response that does not parse is E_APDU_MALFORMED.
import { encodeCommandApdu, parseResponseApdu } from '../apdu.js';
import { concat, readU32, toHex, u16, u32 } from '../bytes.js';
import type { CardChannel } from '../card-channel.js';
import { MAC_LENGTH, RANDOM_LENGTH } from '../crypto-suite.js';
import { TerminalError } from '../errors.js';
import { describeStatusWord, SW, swHex } from '../status-words.js';
import { encodeTlvList, findTlv, parseTlvList } from '../tlv.js';
import {
  CLA_ISO,
  CLA_PROPRIETARY,
  HOLDER_ID_LENGTH,
  INS,
  type KeyRoute,
  PIN_REFERENCE,
  RECORD_STATUS,
  type RecordStatus,
  SETTLEMENT_AID,
  STATUS_QUERY,
  TAG,
} from './commands.js';
import { decodeItemList, type ListedItem } from './contents-codec.js';
import { decodeValidity } from './validity-date.js';

export interface CardInfo {
  holderId: Uint8Array;
  validity: string;
  transferKeyId: number;
  transferKeyIdLimit: number;
  updateKeyId: number;
  updateKeyIdLimit: number;
  prestoredTransferKeyIds: number[];
  currency: number;
  unsettledDebits: number;
  pendingCredits: number;
  appletVersion: number;
  certificate: Uint8Array;
}

export interface Balance {
  balance: number;
  maxBalance: number;
  availableBalance: number;
  balanceWithPendingCredits: number;
  currency: number;
}

export interface TransactionRecord {
  role: 'debit' | 'credit';
  status: RecordStatus;
  counterpartId: Uint8Array;
  currency: number;
  amount: number;
  date: number;
  transferKeyId: number;
  txRandom: Uint8Array;
  rxRandom: Uint8Array;
  proof: Uint8Array;
}

export const TRANSACTION_RECORD_LENGTH = 2 + HOLDER_ID_LENGTH + 2 + 4 + 4 + 4 + 3 * RANDOM_LENGTH;

export interface TransferRequest {
  counterpartId: Uint8Array;
  currency: number;
  amount: number;
  date: number;
}

export interface ContentTransferRecord {
  direction: 'out' | 'in';
  status: 'open' | 'deleted' | 'acknowledged' | 'aborted' | 'pending' | 'accepted' | 'discarded';
  txId: Uint8Array;
  peerId: Uint8Array;
  linkTxId?: Uint8Array;
  kind: 'item' | 'value';
  exchangeInitiator: boolean;
  amount: number;
  digest: Uint8Array;
  itemId?: Uint8Array;
  proof?: Uint8Array;
}

const CONTENT_STATUS_NAME = {
  1: 'open',
  2: 'deleted',
  3: 'acknowledged',
  4: 'aborted',
  17: 'pending',
  18: 'accepted',
  19: 'discarded',
} as const;

export interface SessionResult {
  sessionId: Uint8Array;
  level: 'basic' | 'issuer';
  peerIssuer?: Uint8Array;
}

export class SettlementClient {
  constructor(
    readonly channel: CardChannel,
    private readonly timeoutMs?: number,
  ) {}

  /** Sends one command; returns the response data of a 9000 answer, after any GET RESPONSE chain. */
  async command(ins: number, p1 = 0, data?: Uint8Array, cla = CLA_PROPRIETARY, p2 = 0): Promise<Uint8Array> {
    const extended = (data?.length ?? 0) > 255;
    let response = await this.exchange(
      encodeCommandApdu({ cla, ins, p1, p2, ...(data ? { data } : {}), ne: extended ? 65536 : 256 }),
    );
    const chunks: Uint8Array[] = [];
    for (let rounds = 0; ; rounds++) {
      if (rounds > 256) throw new TerminalError('E_APDU_MALFORMED', 'endless GET RESPONSE chain');
      const { sw, data: chunk } = response;
      chunks.push(chunk);
      if ((sw & 0xff00) === SW.BYTES_REMAINING) {
        response = await this.exchange(
          encodeCommandApdu({ cla: CLA_ISO, ins: INS.GET_RESPONSE, p1: 0, p2: 0, ne: sw & 0xff || 256 }),
        );
        continue;
      }
      if (sw !== SW.OK) {
        throw new TerminalError(
          'E_CARD_STATUS',
          `card refused INS ${ins.toString(16).toUpperCase()}: ${swHex(sw)} ${describeStatusWord(sw)}`,
          {
            sw,
            ins,
          },
        );
      }
      return concat(...chunks);
    }
  }

  private async exchange(apdu: Uint8Array) {
    const raw = await this.channel.transmit(
      apdu,
      this.timeoutMs === undefined ? {} : { timeoutMs: this.timeoutMs },
    );
    if (raw.length < 2) throw new TerminalError('E_APDU_MALFORMED', 'card answered without a status word');
    return parseResponseApdu(raw);
  }

  async select(): Promise<void> {
    await this.command(INS.SELECT, 0x04, SETTLEMENT_AID, CLA_ISO);
  }

  async getCardInfo(): Promise<CardInfo> {
    const data = await this.command(INS.GET_CARD_INFO);
    return malformedGuard('card info', () => {
      const items = parseTlvList(data);
      const need = (tag: number, length?: number) => {
        const v = findTlv(items, tag);
        if (!v || (length !== undefined && v.length !== length))
          throw new Error(`tag ${tag.toString(16)} missing or wrong length`);
        return v;
      };
      const prestored = need(TAG.PRESTORED_KEY_IDS);
      if (prestored.length % 4 !== 0) throw new Error('pre-stored key IDs not a multiple of 4 bytes');
      const unsettled = need(TAG.UNSETTLED, 2);
      return {
        holderId: need(TAG.HOLDER_ID, HOLDER_ID_LENGTH),
        validity: decodeValidity(need(TAG.VALIDITY, 4)),
        transferKeyId: readU32(need(TAG.TRANSFER_KEY_ID, 4)),
        transferKeyIdLimit: readU32(need(TAG.TRANSFER_KEY_ID_LIMIT, 4)),
        updateKeyId: readU32(need(TAG.UPDATE_KEY_ID, 4)),
        updateKeyIdLimit: readU32(need(TAG.UPDATE_KEY_ID_LIMIT, 4)),
        prestoredTransferKeyIds: Array.from({ length: prestored.length / 4 }, (_, i) =>
          readU32(prestored, 4 * i),
        ),
        currency: readU16(need(TAG.CURRENCY, 2)),
        unsettledDebits: unsettled[0]!,
        pendingCredits: unsettled[1]!,
        appletVersion: need(TAG.APPLET_VERSION, 1)[0]!,
        certificate: need(TAG.CERTIFICATE),
      };
    });
  }

  async getBalance(): Promise<Balance> {
    const d = await this.command(INS.GET_BALANCE);
    return malformedGuard('balance', () => {
      if (d.length !== 18) throw new Error('balance response is 18 bytes');
      return {
        balance: readU32(d, 0),
        maxBalance: readU32(d, 4),
        availableBalance: readU32(d, 8),
        balanceWithPendingCredits: readU32(d, 12),
        currency: readU16(d.subarray(16)),
      };
    });
  }

  async beginKeyUpdate(route: KeyRoute, date: number, peerCertificate?: Uint8Array): Promise<Uint8Array> {
    const r = await this.command(
      INS.BEGIN_KEY_UPDATE,
      route,
      concat(u32(date), peerCertificate ?? new Uint8Array(0)),
    );
    return expectLength(r, RANDOM_LENGTH, 'update random');
  }

  /** Common-key and pre-stored routes: `receiver` is the holder ID; public-key route: the receiver's certificate. */
  exportTransferKey(
    route: KeyRoute,
    date: number,
    updateRandom: Uint8Array,
    receiver: Uint8Array,
  ): Promise<Uint8Array> {
    return this.command(INS.EXPORT_TRANSFER_KEY, route, concat(u32(date), updateRandom, receiver));
  }

  async applyKeyUpdate(route: KeyRoute, exported: Uint8Array): Promise<void> {
    await this.command(INS.APPLY_KEY_UPDATE, route, exported);
  }

  async initiateDebit(t: TransferRequest): Promise<Uint8Array> {
    return expectLength(
      await this.command(INS.INITIATE_DEBIT, 0, encodeTerms(t)),
      RANDOM_LENGTH,
      'transmission random',
    );
  }

  async initiateCredit(
    t: TransferRequest,
    txRandom: Uint8Array,
  ): Promise<{ rxRandom: Uint8Array; challenge: Uint8Array }> {
    const r = expectLength(
      await this.command(INS.INITIATE_CREDIT, 0, concat(encodeTerms(t), txRandom)),
      RANDOM_LENGTH + MAC_LENGTH,
      'reception random and transmission challenge',
    );
    return { rxRandom: r.slice(0, RANDOM_LENGTH), challenge: r.slice(RANDOM_LENGTH) };
  }

  async debit(txRandom: Uint8Array, rxRandom: Uint8Array, challenge: Uint8Array): Promise<Uint8Array> {
    const r = await this.command(INS.DEBIT, 0, concat(txRandom, rxRandom, challenge));
    return expectLength(r, MAC_LENGTH, 'reception challenge');
  }

  async credit(txRandom: Uint8Array, receptionChallenge: Uint8Array): Promise<Uint8Array> {
    const r = await this.command(INS.CREDIT, 0, concat(txRandom, receptionChallenge));
    return expectLength(r, MAC_LENGTH, 'acknowledgement');
  }

  async acknowledgeDebit(txRandom: Uint8Array, ack: Uint8Array): Promise<void> {
    await this.command(INS.ACKNOWLEDGE_DEBIT, 0, concat(txRandom, ack));
  }

  async abortDebit(txRandom: Uint8Array): Promise<Uint8Array> {
    return expectLength(await this.command(INS.ABORT_DEBIT, 0, txRandom), MAC_LENGTH, 'abort proof');
  }

  async cancelCredit(txRandom: Uint8Array, abortProof: Uint8Array): Promise<void> {
    await this.command(INS.CANCEL_CREDIT, 0, concat(txRandom, abortProof));
  }

  async transactionStatus(txRandom: Uint8Array): Promise<TransactionRecord> {
    const r = await this.command(INS.GET_TRANSACTION_STATUS, STATUS_QUERY.ONE, txRandom);
    return decodeRecord(expectLength(r, TRANSACTION_RECORD_LENGTH, 'transaction record'));
  }

  // ---- Seed 000: owner mode, mutual authentication, contents ----

  /** VERIFY with the owner PIN; a wrong PIN rejects with E_CARD_STATUS sw 63CX (X tries left) or 6983. */
  async verifyPin(pin: string): Promise<void> {
    await this.command(INS.VERIFY, 0, new TextEncoder().encode(pin), CLA_ISO, PIN_REFERENCE);
  }

  /** Tries left before the PIN blocks; 'verified' when owner mode is already on; 0 when blocked. */
  async pinStatus(): Promise<number | 'verified'> {
    try {
      await this.command(INS.VERIFY, 0, undefined, CLA_ISO, PIN_REFERENCE);
      return 'verified';
    } catch (e) {
      const sw = e instanceof TerminalError ? Number(e.details.sw) : Number.NaN;
      if ((sw & 0xfff0) === SW.VERIFICATION_FAILED) return sw & 0x0f;
      if (sw === SW.AUTH_METHOD_BLOCKED) return 0;
      throw e;
    }
  }

  async resetRetryCounter(puk: string, newPin: string): Promise<void> {
    await this.command(
      INS.RESET_RETRY_COUNTER,
      0,
      new TextEncoder().encode(puk + newPin),
      CLA_ISO,
      PIN_REFERENCE,
    );
  }

  async authBegin(
    mode: number,
    date: number,
  ): Promise<{ ephemeralPublicKey: Uint8Array; random: Uint8Array }> {
    const r = expectLength(
      await this.command(INS.AUTH_BEGIN, mode, u32(date)),
      65 + RANDOM_LENGTH,
      'authentication start',
    );
    return { ephemeralPublicKey: r.slice(0, 65), random: r.slice(65) };
  }

  /** Hands the card its peer's contribution; returns this card's authentication confirmation notice. */
  authPeer(peer: {
    mode: number;
    ephemeralPublicKey: Uint8Array;
    random: Uint8Array;
    certificate: Uint8Array;
  }): Promise<Uint8Array> {
    return this.command(
      INS.AUTH_PEER,
      0,
      concat(Uint8Array.of(peer.mode), peer.ephemeralPublicKey, peer.random, peer.certificate),
    );
  }

  async authConfirm(peerConfirmation: Uint8Array): Promise<SessionResult> {
    const r = await this.command(INS.AUTH_CONFIRM, 0, peerConfirmation);
    return malformedGuard('session', () => {
      const items = parseTlvList(r);
      const id = findTlv(items, TAG.SESSION_ID);
      const level = findTlv(items, TAG.ACCESS_LEVEL);
      const issuer = findTlv(items, TAG.PEER_ISSUER);
      if (id?.length !== 16 || level?.length !== 1) throw new Error('session ID or level missing');
      return {
        sessionId: id,
        level: level[0] === 2 ? 'issuer' : 'basic',
        ...(issuer ? { peerIssuer: issuer } : {}),
      };
    });
  }

  async sessionEnd(): Promise<void> {
    await this.command(INS.SESSION_END);
  }

  async listContents(): Promise<ListedItem[]> {
    const r = await this.command(INS.LIST_CONTENTS);
    return malformedGuard('content list', () => decodeItemList(r));
  }

  readContent(id: Uint8Array): Promise<Uint8Array> {
    return this.command(INS.READ_CONTENT, 0, id);
  }

  async updateContent(id: Uint8Array, body: Uint8Array): Promise<void> {
    await this.command(INS.UPDATE_CONTENT, 0, concat(id, body));
  }

  async createContent(
    date: number,
    itemTemplate: Uint8Array,
    right: { grantId: Uint8Array; notAfter: number; signature: Uint8Array },
  ): Promise<void> {
    await this.command(
      INS.CREATE_CONTENT,
      0,
      concat(
        u32(date),
        itemTemplate,
        encodeTlvList([
          { tag: TAG.GRANT_ID, value: right.grantId },
          { tag: TAG.GRANT_NOT_AFTER, value: u32(right.notAfter) },
          { tag: TAG.GRANT_SIGNATURE, value: right.signature },
        ]),
      ),
    );
  }

  /** kind 0 item / 1 value; role 0 plain / 1 exchange initiator / 2 exchange responder (then `link` = the incoming tx). */
  async contentSend(
    kind: 0 | 1,
    role: 0 | 1 | 2,
    sessionId: Uint8Array,
    what: Uint8Array | number,
    link?: Uint8Array,
  ): Promise<{ txId: Uint8Array; sealed: Uint8Array }> {
    const subject = typeof what === 'number' ? u32(what) : what;
    const r = await this.command(
      INS.CONTENT_SEND,
      kind,
      concat(sessionId, subject, link ?? new Uint8Array(0)),
      CLA_PROPRIETARY,
      role,
    );
    if (r.length < 16 + 28) throw new TerminalError('E_APDU_MALFORMED', 'content send response too short');
    return { txId: r.slice(0, 16), sealed: r.slice(16) };
  }

  async contentReceive(
    sessionId: Uint8Array,
    txId: Uint8Array,
    link: Uint8Array | undefined,
    sealed: Uint8Array,
  ): Promise<Uint8Array> {
    return expectSignature(
      await this.command(INS.CONTENT_RECEIVE, 0, concat(sessionId, txId, link ?? new Uint8Array(16), sealed)),
      'commit instruction',
    );
  }

  async contentCommit(txId: Uint8Array, commitInstruction: Uint8Array): Promise<Uint8Array> {
    return expectSignature(
      await this.command(INS.CONTENT_COMMIT, 0, concat(txId, commitInstruction)),
      'deletion proof',
    );
  }

  /** The acceptance, or (exchange responder) the deletion proof of its own half. */
  async contentAccept(txId: Uint8Array, deletionProof: Uint8Array): Promise<Uint8Array> {
    return expectSignature(
      await this.command(INS.CONTENT_ACCEPT, 0, concat(txId, deletionProof)),
      'acceptance',
    );
  }

  async contentAbort(txId: Uint8Array, linkedAbortProof?: Uint8Array): Promise<Uint8Array> {
    return expectSignature(
      await this.command(INS.CONTENT_ABORT, 0, concat(txId, linkedAbortProof ?? new Uint8Array(0))),
      'abort proof',
    );
  }

  /** Nothing, or (exchange responder) the abort proof of its own half. */
  async contentCancel(txId: Uint8Array, abortProof: Uint8Array): Promise<Uint8Array> {
    const r = await this.command(INS.CONTENT_CANCEL, 0, concat(txId, abortProof));
    return r.length === 0 ? r : expectSignature(r, 'abort proof');
  }

  async contentAcknowledge(txId: Uint8Array, acceptance: Uint8Array): Promise<void> {
    await this.command(INS.CONTENT_ACKNOWLEDGE, 0, concat(txId, acceptance));
  }

  async contentStatus(txId: Uint8Array): Promise<ContentTransferRecord[]> {
    return decodeContentRecords(await this.command(INS.CONTENT_STATUS, STATUS_QUERY.ONE, txId));
  }

  async unsettledContentTransfers(): Promise<ContentTransferRecord[]> {
    return decodeContentRecords(await this.command(INS.CONTENT_STATUS, STATUS_QUERY.LIST_UNSETTLED));
  }

  async unsettledTransactions(): Promise<TransactionRecord[]> {
    const r = await this.command(INS.GET_TRANSACTION_STATUS, STATUS_QUERY.LIST_UNSETTLED);
    if (r.length % TRANSACTION_RECORD_LENGTH !== 0)
      throw new TerminalError('E_APDU_MALFORMED', 'unsettled list length');
    return Array.from({ length: r.length / TRANSACTION_RECORD_LENGTH }, (_, i) =>
      decodeRecord(r.subarray(i * TRANSACTION_RECORD_LENGTH, (i + 1) * TRANSACTION_RECORD_LENGTH)),
    );
  }
}

export function decodeContentRecords(data: Uint8Array): ContentTransferRecord[] {
  return malformedGuard('content transfer records', () =>
    parseTlvList(data).map((t) => {
      if (t.tag !== 0xe3) throw new Error('not a content transfer record');
      const f = parseTlvList(t.value);
      const need = (tag: number, length?: number) => {
        const v = findTlv(f, tag);
        if (!v || (length !== undefined && v.length !== length))
          throw new Error(`field ${tag.toString(16)} missing`);
        return v;
      };
      const status = CONTENT_STATUS_NAME[need(0xc1, 1)[0] as keyof typeof CONTENT_STATUS_NAME];
      if (!status) throw new Error('unknown status');
      const link = need(0xc4, 16);
      const flags = need(0xc5, 2);
      const itemId = findTlv(f, 0xc9);
      const proof = findTlv(f, 0xc8);
      return {
        direction: need(0xc0, 1)[0] === 1 ? ('out' as const) : ('in' as const),
        status,
        txId: need(0xc2, 16),
        peerId: need(0xc3, 16),
        ...(link.some((b) => b !== 0) ? { linkTxId: link } : {}),
        kind: flags[0] === 1 ? ('value' as const) : ('item' as const),
        exchangeInitiator: flags[1] === 1,
        amount: readU32(need(0xc6, 4)),
        digest: need(0xc7, 32),
        ...(itemId ? { itemId } : {}),
        ...(proof ? { proof } : {}),
      };
    }),
  );
}

function encodeTerms(t: TransferRequest): Uint8Array {
  if (t.counterpartId.length !== HOLDER_ID_LENGTH)
    throw new TerminalError('E_INPUT_INVALID', 'holder IDs are 16 bytes');
  return concat(t.counterpartId, u16(t.currency), u32(t.amount), u32(t.date));
}

const KNOWN_STATUS = new Set<number>(Object.values(RECORD_STATUS));

function decodeRecord(r: Uint8Array): TransactionRecord {
  const status = r[1]!;
  if ((r[0] !== 1 && r[0] !== 2) || !KNOWN_STATUS.has(status)) {
    throw new TerminalError('E_APDU_MALFORMED', 'unknown transaction record role or status');
  }
  let o = 2;
  const take = (n: number) => {
    o += n;
    return r.slice(o - n, o);
  };
  return {
    role: r[0] === 1 ? 'debit' : 'credit',
    status: status as RecordStatus,
    counterpartId: take(HOLDER_ID_LENGTH),
    currency: readU16(take(2)),
    amount: readU32(take(4)),
    date: readU32(take(4)),
    transferKeyId: readU32(take(4)),
    txRandom: take(RANDOM_LENGTH),
    rxRandom: take(RANDOM_LENGTH),
    proof: take(RANDOM_LENGTH),
  };
}

function readU16(b: Uint8Array): number {
  return (b[0]! << 8) | b[1]!;
}

function expectLength(data: Uint8Array, length: number, what: string): Uint8Array {
  if (data.length !== length) {
    throw new TerminalError(
      'E_APDU_MALFORMED',
      `${what}: expected ${length} bytes, card sent ${data.length}`,
      {
        data: toHex(data),
      },
    );
  }
  return data;
}

/**
 * A content proof is a DER ECDSA-Sig-Value (SEQUENCE of two INTEGERs, at most 72 bytes for P-256).
 * An answer of another shape (say an empty 9000 from a card that did not act) is refused here, so it
 * is never journaled as a proof and a flow is never closed on it.
 */
function expectSignature(data: Uint8Array, what: string): Uint8Array {
  if (data.length < 8 || data.length > 72 || data[0] !== 0x30 || data[1] !== data.length - 2) {
    throw new TerminalError('E_APDU_MALFORMED', `${what}: not a DER signature (${data.length} bytes)`, {
      data: toHex(data),
    });
  }
  return data;
}

function malformedGuard<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw new TerminalError('E_APDU_MALFORMED', `${what} does not parse: ${(e as Error).message}`);
  }
}
