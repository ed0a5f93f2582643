// Card-to-card mutual authentication (seed 000 Fig. 5, S201–S208) relayed by the terminal:
// AUTH BEGIN (own ephemeral key, random, requested mode), AUTH PEER (check the peer's certificate,
// sign the transcript: the "authentication confirmation notice"), AUTH CONFIRM (check the peer's
// notice: session established, session ID and key derived, access level set).
import type { CommandApdu } from '../../../protocol/apdu.js';
import { concat, fromHex, toHex } from '../../../protocol/bytes.js';
import {
  ecdsaSign,
  ecdsaVerify,
  generateP256KeyPair,
  P256_PUBLIC_KEY_LENGTH,
  RANDOM_LENGTH,
} from '../../../protocol/crypto-suite.js';
import { isTerminalError } from '../../../protocol/errors.js';
import { checkCardCertificate } from '../../../protocol/pki/index.js';
import { TAG } from '../../../protocol/settlement/commands.js';
import {
  authenticationMessage,
  SESSION_MODE,
  sessionId,
  sessionKey,
  sessionTranscript,
} from '../../../protocol/settlement/session-keys.js';
import { isExpired } from '../../../protocol/settlement/validity-date.js';
import { CardStatusError, SW } from '../../../protocol/status-words.js';
import { encodeTlvList } from '../../../protocol/tlv.js';
import { accessLevel } from './access.js';
import type { SettlementContext } from './applet-context.js';
import { CommandData, requireParameters } from './command-data.js';

const MODES = [SESSION_MODE.BASIC, SESSION_MODE.ISSUER];

/** AUTH BEGIN: P1 = the mode this card requires of its peer; data = date. */
export function authBegin(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, MODES);
  const date = CommandData.expectLength(cmd.data, 4).u32();
  const s = ctx.store.read();
  if (isExpired(s.validity, date)) throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, 'card expired');
  const ephemeral = generateP256KeyPair();
  const random = ctx.random(RANDOM_LENGTH);
  // A new authentication ends any earlier session and its access level.
  ctx.transient.auth = {
    stage: 'begun',
    mode: cmd.p1,
    date,
    ephemeralPrivateKey: ephemeral.privateKey,
    ephemeralPublicKey: ephemeral.publicKey,
    random,
  };
  return concat(ephemeral.publicKey, random);
}

/** AUTH PEER: data = peer mode 1 ‖ peer ephemeral key 65 ‖ peer random 16 ‖ peer certificate. */
export function authPeer(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  const auth = ctx.transient.auth;
  if (auth?.stage !== 'begun')
    throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, 'AUTH BEGIN must come first');
  const data = CommandData.expectAtLeast(cmd.data, 1 + P256_PUBLIC_KEY_LENGTH + RANDOM_LENGTH + 1);
  const peerMode = data.bytes(1)[0]!;
  const ephemeralPublicKey = data.bytes(P256_PUBLIC_KEY_LENGTH);
  const random = data.bytes(RANDOM_LENGTH);
  const der = data.rest();
  if (!MODES.includes(peerMode as 0 | 1))
    throw new CardStatusError(SW.INCORRECT_DATA, 'unknown session mode');
  const s = ctx.store.read();
  let cert: ReturnType<typeof checkCardCertificate>;
  try {
    cert = checkCardCertificate(der, { caPublicKey: fromHex(s.caPublicKey), at: new Date(auth.date * 1000) });
  } catch (e) {
    delete ctx.transient.auth;
    if (isTerminalError(e, 'E_PKI_SIGNATURE') || isTerminalError(e, 'E_PKI_EXPIRED')) {
      throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, e.message);
    }
    throw new CardStatusError(SW.INCORRECT_DATA, (e as Error).message);
  }
  if (toHex(cert.holderId!) === s.holderId) {
    delete ctx.transient.auth;
    throw new CardStatusError(SW.INCORRECT_DATA, 'the peer certificate is this card’s own');
  }
  if (auth.mode === SESSION_MODE.ISSUER && !cert.issuerRole) {
    delete ctx.transient.auth;
    throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, 'issuer mode needs an issuer card');
  }
  const peer = {
    holderId: cert.holderId!,
    publicKey: cert.publicKey,
    ...(cert.issuerRole ? { issuerRole: cert.issuerRole } : {}),
    ephemeralPublicKey,
    random,
    mode: peerMode,
  };
  const own = fromHex(s.holderId);
  const transcript = sessionTranscript(
    { holderId: own, ephemeralPublicKey: auth.ephemeralPublicKey, random: auth.random, mode: auth.mode },
    peer,
  );
  ctx.transient.auth = { ...auth, stage: 'confirmed-peer', peer, transcript };
  return ecdsaSign(fromHex(s.cardPrivateKey), authenticationMessage(own, transcript));
}

/** AUTH CONFIRM: data = the peer's confirmation notice; answers session ID ‖ access level. */
export function authConfirm(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  const auth = ctx.transient.auth;
  if (auth?.stage !== 'confirmed-peer' || !auth.peer || !auth.transcript) {
    throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, 'AUTH PEER must come first');
  }
  if (cmd.data.length === 0 || cmd.data.length > 80) throw new CardStatusError(SW.WRONG_LENGTH);
  if (
    !ecdsaVerify(auth.peer.publicKey, authenticationMessage(auth.peer.holderId, auth.transcript), cmd.data)
  ) {
    delete ctx.transient.auth;
    throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, 'the peer’s confirmation does not verify');
  }
  const id = sessionId(auth.transcript);
  ctx.transient.auth = {
    ...auth,
    stage: 'established',
    sessionId: id,
    key: sessionKey(auth.ephemeralPrivateKey, auth.peer.ephemeralPublicKey, auth.transcript),
  };
  const level = accessLevel(ctx);
  return encodeTlvList([
    { tag: TAG.SESSION_ID, value: id },
    { tag: TAG.ACCESS_LEVEL, value: Uint8Array.of(level.issuer ? 0x02 : 0x01) },
    ...(level.issuer ? [{ tag: TAG.PEER_ISSUER, value: fromHex(level.issuer) }] : []),
  ]);
}

/** SESSION END: forgets the session and the owner verification. */
export function sessionEnd(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  delete ctx.transient.auth;
  ctx.transient.ownerVerified = false;
  return new Uint8Array(0);
}

/** The established session a content command names, or 6982. */
export function requireSession(ctx: SettlementContext, id: Uint8Array) {
  const auth = ctx.transient.auth;
  if (auth?.stage !== 'established' || !auth.sessionId || !auth.key || !auth.peer) {
    throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, 'no authenticated session');
  }
  if (toHex(auth.sessionId) !== toHex(id))
    throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, 'session ID does not match');
  return { ...auth, peer: auth.peer, key: auth.key, sessionId: auth.sessionId };
}
