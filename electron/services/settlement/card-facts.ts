// A card as the journal's facts name it (db/flow-facts.ts): its holder ID and its label, the common
// name (CN) of its certificate, as the operator screen shows it.
import type { CardFact } from '../../../db/flow-facts.js';
import type { CardSession } from './card-session.js';

export function cardFact(session: Pick<CardSession, 'holderIdHex' | 'certificate'>): CardFact {
  const label = commonName(session.certificate.subjectName);
  return label === undefined ? { holderId: session.holderIdHex } : { holderId: session.holderIdHex, label };
}

/** The CN of an RFC 4514 name ("serialNumber=0A1B...,CN=Alice"), its escapes undone. */
export function commonName(subjectName: string): string | undefined {
  const m = /(?:^|,)CN=((?:\\.|[^,\\])*)/.exec(subjectName);
  return m ? m[1]!.replace(/\\(.)/g, '$1') : undefined;
}
