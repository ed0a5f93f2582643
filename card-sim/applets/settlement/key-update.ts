// The transfer-key update of seed 002, all five embodiments, as three commands: BEGIN (receiver,
// S1004/S3004: fresh update random), EXPORT (sender, S1005/S3005: key wrapped or sealed and signed),
// APPLY (receiver, S1006/S3006: authenticate, then take only newer keys within their limits).
import type { CommandApdu } from '../../../protocol/apdu.js';
import { concat, fromHex, readU32, toHex, u32 } from '../../../protocol/bytes.js';
import {
  AES_KEY_LENGTH,
  aeadOpen,
  aeadSeal,
  ecdsaSign,
  ecdsaVerify,
  eciesOpen,
  eciesSeal,
  RANDOM_LENGTH,
} from '../../../protocol/crypto-suite.js';
import { isTerminalError } from '../../../protocol/errors.js';
import { checkCardCertificate } from '../../../protocol/pki/index.js';
import { HOLDER_ID_LENGTH, KEY_ROUTE, type KeyRoute, TAG } from '../../../protocol/settlement/commands.js';
import {
  COMMON_KEY_PLAINTEXT_LENGTH,
  KEY_TRANSPORT_LABEL,
  PRESTORED_SWITCH_PLAINTEXT_LENGTH,
  PUBLIC_KEY_PLAINTEXT_LENGTH,
  publicKeySealContext,
  publicKeySignatureMessage,
  updateKeyWrapAad,
} from '../../../protocol/settlement/key-transport.js';
import { isExpired } from '../../../protocol/settlement/validity-date.js';
import { CardStatusError, SW } from '../../../protocol/status-words.js';
import { encodeTlvList, findTlv, parseTlvList } from '../../../protocol/tlv.js';
import type { SettlementContext } from './applet-context.js';
import { CommandData, requireParameters } from './command-data.js';
import { retireTransferKeys, type SettlementState } from './state.js';

const ROUTES = [KEY_ROUTE.COMMON_KEY, KEY_ROUTE.PUBLIC_KEY, KEY_ROUTE.PRESTORED_SWITCH];

function requireNotExpired(s: SettlementState, date: number): void {
  if (isExpired(s.validity, date)) throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, 'card expired');
}

function requireUpdateKey(s: SettlementState): Uint8Array {
  if (!s.updateKey) throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, 'card has no update key');
  return fromHex(s.updateKey);
}

/** Checks a peer card certificate against the CA key held by this card. */
function checkPeerCertificate(s: SettlementState, der: Uint8Array, date: number) {
  try {
    const cert = checkCardCertificate(der, {
      caPublicKey: fromHex(s.caPublicKey),
      at: new Date(date * 1000),
    });
    if (toHex(cert.holderId!) === s.holderId) {
      throw new CardStatusError(SW.INCORRECT_DATA, 'peer certificate is this card’s own');
    }
    return { holderId: cert.holderId!, publicKey: cert.publicKey };
  } catch (e) {
    if (isTerminalError(e, 'E_PKI_SIGNATURE') || isTerminalError(e, 'E_PKI_EXPIRED')) {
      throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, e.message);
    }
    if (isTerminalError(e)) throw new CardStatusError(SW.INCORRECT_DATA, e.message);
    throw e;
  }
}

/** BEGIN KEY UPDATE — the receiving card (seed: transfer-key update permission request). */
export function beginKeyUpdate(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, ROUTES);
  const route = cmd.p1 as KeyRoute;
  const data = CommandData.expectAtLeast(cmd.data, 4);
  const date = data.u32();
  const s = ctx.store.read();
  requireNotExpired(s, date);
  delete ctx.transient.keyUpdate;
  let peer: { holderId: Uint8Array; publicKey: Uint8Array } | undefined;
  if (route === KEY_ROUTE.PUBLIC_KEY) {
    const der = data.rest();
    if (der.length === 0) throw new CardStatusError(SW.WRONG_LENGTH, 'peer certificate missing');
    peer = checkPeerCertificate(s, der, date);
  } else {
    if (data.rest().length !== 0) throw new CardStatusError(SW.WRONG_LENGTH);
    requireUpdateKey(s);
  }
  const random = ctx.random(RANDOM_LENGTH);
  ctx.transient.keyUpdate = { route, random, date, ...(peer ? { peer } : {}) };
  return random;
}

/** EXPORT TRANSFER KEY — the sending card (seed: transfer-key obtaining request). */
export function exportTransferKey(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, ROUTES);
  const data = CommandData.expectAtLeast(cmd.data, 4 + RANDOM_LENGTH);
  const date = data.u32();
  const updateRandom = data.bytes(RANDOM_LENGTH);
  const s = ctx.store.read();
  requireNotExpired(s, date);
  const senderId = fromHex(s.holderId);
  const transferKey = fromHex(s.transferKeys[String(s.transferKeyId)]!);

  if (cmd.p1 === KEY_ROUTE.PUBLIC_KEY) {
    const der = data.rest();
    if (der.length === 0) throw new CardStatusError(SW.WRONG_LENGTH, 'receiver certificate missing');
    const receiver = checkPeerCertificate(s, der, date);
    const plaintext = concat(
      u32(s.transferKeyId),
      transferKey,
      u32(s.updateKeyId),
      s.updateKey ? fromHex(s.updateKey) : new Uint8Array(AES_KEY_LENGTH),
    );
    const context = publicKeySealContext(senderId, receiver.holderId, updateRandom);
    const sealed = eciesSeal(receiver.publicKey, plaintext, context, context);
    const signature = ecdsaSign(
      fromHex(s.cardPrivateKey),
      publicKeySignatureMessage(senderId, receiver.holderId, updateRandom, sealed),
    );
    return encodeTlvList([
      { tag: TAG.SEALED_KEYS, value: sealed },
      { tag: TAG.SIGNATURE, value: signature },
    ]);
  }

  const receiverId = data.bytes(HOLDER_ID_LENGTH);
  if (data.rest().length !== 0) throw new CardStatusError(SW.WRONG_LENGTH);
  const updateKey = requireUpdateKey(s);
  const isSwitch = cmd.p1 === KEY_ROUTE.PRESTORED_SWITCH;
  const label = isSwitch ? KEY_TRANSPORT_LABEL.PRESTORED_SWITCH : KEY_TRANSPORT_LABEL.COMMON_KEY_WRAP;
  const plaintext = isSwitch ? u32(s.transferKeyId) : concat(u32(s.transferKeyId), transferKey);
  const aad = updateKeyWrapAad(label, s.updateKeyId, senderId, receiverId, updateRandom);
  return concat(senderId, aeadSeal(updateKey, plaintext, aad));
}

/** APPLY KEY UPDATE — the receiving card (seed: transfer-key update request). */
export function applyKeyUpdate(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, ROUTES);
  const session = ctx.transient.keyUpdate;
  // The update random is single-use whatever the outcome.
  delete ctx.transient.keyUpdate;
  if (!session || session.route !== cmd.p1) {
    throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, 'BEGIN KEY UPDATE for this route must come first');
  }
  const s0 = ctx.store.read();
  const receiverId = fromHex(s0.holderId);

  if (session.route === KEY_ROUTE.PUBLIC_KEY) {
    let items: ReturnType<typeof parseTlvList>;
    try {
      items = parseTlvList(cmd.data);
    } catch {
      throw new CardStatusError(SW.INCORRECT_DATA, 'malformed TLV');
    }
    const sealed = findTlv(items, TAG.SEALED_KEYS);
    const signature = findTlv(items, TAG.SIGNATURE);
    if (!sealed || !signature)
      throw new CardStatusError(SW.INCORRECT_DATA, 'sealed keys or signature missing');
    const peer = session.peer!;
    const message = publicKeySignatureMessage(peer.holderId, receiverId, session.random, sealed);
    if (!ecdsaVerify(peer.publicKey, message, signature)) {
      throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, 'signature invalid');
    }
    const context = publicKeySealContext(peer.holderId, receiverId, session.random);
    const plaintext = eciesOpen(fromHex(s0.cardPrivateKey), sealed, context, context);
    if (!plaintext) throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, 'sealed keys do not open');
    if (plaintext.length !== PUBLIC_KEY_PLAINTEXT_LENGTH) throw new CardStatusError(SW.INCORRECT_DATA);
    const offer = {
      transferKeyId: readU32(plaintext, 0),
      transferKey: plaintext.slice(4, 20),
      updateKeyId: readU32(plaintext, 20),
      updateKey: plaintext.slice(24, 40),
    };
    const takeTransferKey = isAcceptableNewId(offer.transferKeyId, s0.transferKeyId, s0.transferKeyIdLimit);
    const takeUpdateKey =
      offer.updateKeyId !== 0 && isAcceptableNewId(offer.updateKeyId, s0.updateKeyId, s0.updateKeyIdLimit);
    if (!takeTransferKey && !takeUpdateKey) {
      throw new CardStatusError(SW.REFERENCE_DATA_NOT_USABLE, 'neither key is newer and within its limit');
    }
    ctx.store.transaction((s) => {
      if (takeTransferKey) installTransferKey(s, offer.transferKeyId, offer.transferKey);
      if (takeUpdateKey) {
        s.updateKeyId = offer.updateKeyId;
        s.updateKey = toHex(offer.updateKey);
      }
    });
    return new Uint8Array(0);
  }

  const data = CommandData.expectAtLeast(cmd.data, HOLDER_ID_LENGTH + 1);
  const senderId = data.bytes(HOLDER_ID_LENGTH);
  const wrap = data.rest();
  const isSwitch = session.route === KEY_ROUTE.PRESTORED_SWITCH;
  const label = isSwitch ? KEY_TRANSPORT_LABEL.PRESTORED_SWITCH : KEY_TRANSPORT_LABEL.COMMON_KEY_WRAP;
  const aad = updateKeyWrapAad(label, s0.updateKeyId, senderId, receiverId, session.random);
  const plaintext = aeadOpen(requireUpdateKey(s0), wrap, aad);
  if (!plaintext)
    throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, 'key wrap does not authenticate');
  const expectedLength = isSwitch ? PRESTORED_SWITCH_PLAINTEXT_LENGTH : COMMON_KEY_PLAINTEXT_LENGTH;
  if (plaintext.length !== expectedLength) throw new CardStatusError(SW.INCORRECT_DATA);
  const newId = readU32(plaintext, 0);
  if (!isAcceptableNewId(newId, s0.transferKeyId, s0.transferKeyIdLimit)) {
    throw new CardStatusError(SW.REFERENCE_DATA_NOT_USABLE, 'transfer key ID not newer or over its limit');
  }
  if (isSwitch && s0.transferKeys[String(newId)] === undefined) {
    throw new CardStatusError(SW.REFERENCE_DATA_NOT_USABLE, 'transfer key not pre-stored on this card');
  }
  ctx.store.transaction((s) => {
    if (isSwitch) {
      s.transferKeyId = newId;
      retireTransferKeys(s);
    } else installTransferKey(s, newId, plaintext.slice(4, 4 + AES_KEY_LENGTH));
  });
  return new Uint8Array(0);
}

/** Seed S1104A: the new ID must lie above the current one and not above the card's upper limit. */
function isAcceptableNewId(offered: number, current: number, limit: number): boolean {
  return offered > current && offered <= limit;
}

function installTransferKey(s: SettlementState, id: number, key: Uint8Array): void {
  s.transferKeys[String(id)] = toHex(key);
  s.transferKeyId = id;
  retireTransferKeys(s);
}
