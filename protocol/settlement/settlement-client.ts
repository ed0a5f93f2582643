// Terminal-side codec of the settlement applet: builds each command, sends it over any CardChannel,
// follows 61XX with GET RESPONSE, and decodes the answer. A status word other than 9000 becomes
// TerminalError('E_CARD_STATUS') carrying the SW; a response that does not parse is E_APDU_MALFORMED.
// The answers' codecs live beside it (card-info-, transaction-record-, content-record-codec.ts).
import { encodeCommandApdu, parseResponseApdu } from '../apdu.js';
import { concat, u32 } from '../bytes.js';
import type { CardChannel } from '../card-channel.js';
import { MAC_LENGTH, RANDOM_LENGTH } from '../crypto-suite.js';
import { isTerminalError, TerminalError } from '../errors.js';
import { describeStatusWord, SW, swHex } from '../status-words.js';
import { encodeTlvList, findTlv, parseTlvList } from '../tlv.js';
import { type Balance, type CardInfo, decodeBalance, decodeCardInfo } from './card-info-codec.js';
import {
  CLA_ISO,
  CLA_PROPRIETARY,
  INS,
  type KeyRoute,
  PIN_REFERENCE,
  SETTLEMENT_AID,
  SETTLEMENT_AID_V1,
  STATUS_QUERY,
  TAG,
} from './commands.js';
import { type ContentTransferRecord, decodeContentRecords } from './content-record-codec.js';
import { decodeItemList, type ListedItem } from './contents-codec.js';
import { expectLength, expectSignature, malformedGuard } from './response-checks.js';
import {
  decodeTransactionRecord,
  decodeTransactionRecords,
  encodeTerms,
  TRANSACTION_RECORD_LENGTH,
  type TransactionRecord,
  type TransferRequest,
} from './transaction-record-codec.js';

export type { Balance, CardInfo } from './card-info-codec.js';
export {
  CONTENT_STATUS_CODE,
  type ContentTransferRecord,
  type ContentTransferStatus,
  decodeContentRecords,
} from './content-record-codec.js';
export {
  TRANSACTION_RECORD_LENGTH,
  type TransactionRecord,
  type TransferRequest,
} from './transaction-record-codec.js';

export interface SessionResult {
  sessionId: Uint8Array;
  level: 'basic' | 'issuer';
  peerIssuer?: Uint8Array;
}

/** INITIATE DEBIT's answer: the transaction's ID and the payer's proof that it opened this debit. */
export interface DebitStart {
  txRandom: Uint8Array;
  debitProof: Uint8Array;
}

export interface SettlementClientOptions {
  /** The reader takes extended-length APDUs: long answers (GET CARD INFO) come in one response. */
  extendedLength?: boolean;
}

export class SettlementClient {
  constructor(
    readonly channel: CardChannel,
    private readonly timeoutMs?: number,
    private readonly options: SettlementClientOptions = {},
  ) {}

  /**
   * Sends one command; returns the response data of a 9000 answer, after any GET RESPONSE chain.
   * Ne is 256 (Le 00) unless the data needs an extended APDU or `extendedLe` asks for the whole answer.
   */
  async command(
    ins: number,
    p1 = 0,
    data?: Uint8Array,
    cla = CLA_PROPRIETARY,
    p2 = 0,
    extendedLe = false,
  ): Promise<Uint8Array> {
    const extended = extendedLe || (data?.length ?? 0) > 255;
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

  /**
   * Selects the settlement application (version 2). A card that has only the version-1 application
   * is named and refused (E_CARD_VERSION, docs/protocol.md §11): nothing else is ever sent to it.
   */
  async select(): Promise<void> {
    try {
      await this.command(INS.SELECT, 0x04, SETTLEMENT_AID, CLA_ISO);
    } catch (e) {
      if (!isTerminalError(e, 'E_CARD_STATUS') || e.details.sw !== SW.FILE_NOT_FOUND) throw e;
      const v1 = await this.command(INS.SELECT, 0x04, SETTLEMENT_AID_V1, CLA_ISO).then(
        () => true,
        () => false,
      );
      if (!v1) throw e;
      throw new TerminalError(
        'E_CARD_VERSION',
        'the card runs version 1 of the settlement application, which this terminal no longer accepts (docs/protocol.md §11): the issuer migrates or replaces the card',
        { appletVersion: 1 },
      );
    }
  }

  /**
   * GET CARD INFO; a card of another applet version is refused (E_CARD_VERSION). In one extended-length
   * answer where the reader carries it (the option, else the channel's `extendedLength`), else in
   * short parts chained with GET RESPONSE (docs/protocol.md §4.1). A card that refuses the extended
   * Le (6700) is asked the short way from then on.
   */
  async getCardInfo(): Promise<CardInfo> {
    if (this.extendedAnswers()) {
      try {
        return decodeCardInfo(await this.command(INS.GET_CARD_INFO, 0, undefined, CLA_PROPRIETARY, 0, true));
      } catch (e) {
        if (!isTerminalError(e, 'E_CARD_STATUS') || e.details.sw !== SW.WRONG_LENGTH) throw e;
        this.shortOnly = true;
      }
    }
    return decodeCardInfo(await this.command(INS.GET_CARD_INFO));
  }

  private shortOnly = false;

  private extendedAnswers(): boolean {
    return !this.shortOnly && (this.options.extendedLength ?? this.channel.extendedLength === true);
  }

  async getBalance(): Promise<Balance> {
    return decodeBalance(await this.command(INS.GET_BALANCE));
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

  /** S2001: the payer opens a debit; answers the transmission random and its debit proof. */
  async initiateDebit(t: TransferRequest): Promise<DebitStart> {
    const r = expectLength(
      await this.command(INS.INITIATE_DEBIT, 0, encodeTerms(t)),
      RANDOM_LENGTH + MAC_LENGTH,
      'transmission random and debit proof',
    );
    return { txRandom: r.slice(0, RANDOM_LENGTH), debitProof: r.slice(RANDOM_LENGTH) };
  }

  /** S2002: the payee checks the payer's debit proof, then reserves the credit. */
  async initiateCredit(
    t: TransferRequest,
    debit: DebitStart,
  ): Promise<{ rxRandom: Uint8Array; challenge: Uint8Array }> {
    const r = expectLength(
      await this.command(INS.INITIATE_CREDIT, 0, concat(encodeTerms(t), debit.txRandom, debit.debitProof)),
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

  /** The payee gives up a pending credit (§4.5); answers the release proof (the same one when repeated). */
  async releaseCredit(txRandom: Uint8Array): Promise<Uint8Array> {
    return expectLength(await this.command(INS.RELEASE_CREDIT, 0, txRandom), MAC_LENGTH, 'release proof');
  }

  /** The payer takes the payee's release proof: a debited amount comes back, an open debit is aborted. */
  async refundDebit(txRandom: Uint8Array, rxRandom: Uint8Array, releaseProof: Uint8Array): Promise<void> {
    await this.command(INS.REFUND_DEBIT, 0, concat(txRandom, rxRandom, releaseProof));
  }

  async transactionStatus(txRandom: Uint8Array): Promise<TransactionRecord> {
    const r = await this.command(INS.GET_TRANSACTION_STATUS, STATUS_QUERY.ONE, txRandom);
    return decodeTransactionRecord(expectLength(r, TRANSACTION_RECORD_LENGTH, 'transaction record'));
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

  /** The receiver gives up a pending transfer (§9.1); answers its release proof (the same one when repeated). */
  async contentRelease(txId: Uint8Array): Promise<Uint8Array> {
    return expectSignature(await this.command(INS.CONTENT_RELEASE, 0, txId), 'release proof');
  }

  /** The sender takes the receiver's release proof: its item or value comes back, or the transfer is aborted. */
  async contentReturn(txId: Uint8Array, releaseProof: Uint8Array): Promise<void> {
    await this.command(INS.CONTENT_RETURN, 0, concat(txId, releaseProof));
  }

  async contentStatus(txId: Uint8Array): Promise<ContentTransferRecord[]> {
    return decodeContentRecords(await this.command(INS.CONTENT_STATUS, STATUS_QUERY.ONE, txId));
  }

  async unsettledContentTransfers(): Promise<ContentTransferRecord[]> {
    return decodeContentRecords(await this.command(INS.CONTENT_STATUS, STATUS_QUERY.LIST_UNSETTLED));
  }

  async unsettledTransactions(): Promise<TransactionRecord[]> {
    return decodeTransactionRecords(
      await this.command(INS.GET_TRANSACTION_STATUS, STATUS_QUERY.LIST_UNSETTLED),
    );
  }
}
