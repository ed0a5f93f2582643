// Terminal relay of the card-to-card mutual authentication (seed 000 Fig. 5): both cards start,
// each checks the other's certificate and signs the transcript, each checks the other's signature.
import type { SessionResult, SettlementClient } from '../../../protocol/settlement/settlement-client.js';

export interface AuthParty {
  client: SettlementClient;
  certificate: Uint8Array;
  /** What this card requires the other to prove (SESSION_MODE). */
  mode: number;
}

export async function establishSession(
  a: AuthParty,
  b: AuthParty,
  date: number,
): Promise<{ a: SessionResult; b: SessionResult }> {
  const startA = await a.client.authBegin(a.mode, date);
  const startB = await b.client.authBegin(b.mode, date);
  const noticeA = await a.client.authPeer({ mode: b.mode, ...startB, certificate: b.certificate });
  const noticeB = await b.client.authPeer({ mode: a.mode, ...startA, certificate: a.certificate });
  const resultA = await a.client.authConfirm(noticeB);
  const resultB = await b.client.authConfirm(noticeA);
  return { a: resultA, b: resultB };
}
