// One flow cannot stop a recovery pass. A recovery pass visits every open flow a present card takes
// part in; a card that answers one flow's commands with garbage (a hostile or broken card: a record
// that does not decode, a proof that does not verify, a status word no honest card gives) would
// otherwise end the pass there, and the flows after it would never be tried: a hostile card could
// starve every other flow's recovery for ever. So each flow's recovery is isolated: what it throws
// becomes that flow's failure (a typed TerminalError, reported as a recovery event), the flow keeps
// what it journaled before the throw and stays open, and the pass goes on.
//
// Some failures are not one flow's: they end the pass (docs/journal.md, "One flow cannot stop a pass").
//  - the card gone or not answering (pulled, reader lost, no answer in the waiting time, power lost):
//    every later command to it would fail or wait out the same timeout, and a card that does not
//    answer cannot be told from one pulled mid-command; the next pass (its insertion) takes it up;
//  - the journal unusable (a write failed, a newer schema, a broken chain): nothing may be sent to a
//    card whose answer cannot be journaled first.
import type { FlowKind } from '../../../db/journal-vocabulary.js';
import { type ErrorCode, TerminalError, toTerminalError } from '../../../protocol/errors.js';

/** A flow whose recovery failed in a pass that went on: it stays open, as far as it got. */
export interface RecoveryFailure {
  /** Absent: the adoption of one card's foreign records failed (kind 'recovery', details.holderId). */
  flowId?: string;
  kind: FlowKind;
  /** Its code is the failure's; its details name the flow (`flowId`, `flowKind`). */
  error: TerminalError;
}

export type FailureSink = (failure: RecoveryFailure) => void;

const ENDS_PASS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'E_CARD_ABSENT',
  'E_READER_UNAVAILABLE',
  'E_TRANSPORT',
  'E_TRANSPORT_TIMEOUT',
  'E_DB',
  'E_DB_TOO_NEW',
  'E_LOG_TAMPERED',
]);

/** Whether a failure ends the whole pass rather than one flow's recovery. */
export function endsPass(e: unknown): boolean {
  return ENDS_PASS.has(toTerminalError(e).code);
}

/** A failure of one flow's recovery (or of one card's adoption) with the flow named in its details. */
export function failureOf(e: unknown, kind: FlowKind, subject: { flowId: string } | { holderId: string }) {
  const cause = toTerminalError(e);
  const what =
    'flowId' in subject ? `${kind} flow ${subject.flowId}` : `the records found on card ${subject.holderId}`;
  return {
    ...('flowId' in subject ? { flowId: subject.flowId } : {}),
    kind,
    error: new TerminalError(cause.code, `recovery of ${what} failed: ${cause.message}`, {
      ...cause.details,
      ...subject,
      flowKind: kind,
    }),
  } satisfies RecoveryFailure;
}

/**
 * Runs one flow's recovery; a failure that is the flow's own goes to `failed` (undefined returned),
 * one that ends the pass is thrown.
 */
export async function isolated<T>(
  flowId: string,
  kind: FlowKind,
  work: () => Promise<T>,
  failed: FailureSink,
): Promise<T | undefined> {
  try {
    return await work();
  } catch (e) {
    if (endsPass(e)) throw e;
    failed(failureOf(e, kind, { flowId }));
    return undefined;
  }
}
