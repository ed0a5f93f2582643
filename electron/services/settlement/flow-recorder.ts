// Writes flow steps to the journal. append() returns only after SQLite has committed the entry
// (WAL, synchronous=FULL), so "journaled before the next APDU is sent" holds for every caller.
import type { FlowFacts, FlowKind, Journal, JournalRecord } from '../../../db/journal.js';
import { TerminalError } from '../../../protocol/errors.js';

export interface StepEvent {
  flowId: string;
  flowKind: FlowKind;
  step: string;
  payload: Record<string, unknown>;
  seq: number;
}

/**
 * The step each kind of flow opens with (docs/journal.md). Its entry carries who ran the flow: the
 * `stamp` (the signed-in operator) is added to it, whichever service opens the flow.
 */
export const OPENING_STEPS: Readonly<Record<FlowKind, readonly string[]>> = {
  'value-transfer': ['started'],
  'content-transfer': ['started'],
  'content-exchange': ['started'],
  'key-update': ['planned'],
  admin: ['register-requested', 'issue-requested', 'unblock-requested', 'alter-requested'],
  recovery: ['started'],
  journal: [],
};

export class FlowRecorder {
  constructor(
    private readonly journal: Journal,
    private readonly listeners: {
      onStep?: (event: StepEvent) => void;
      /** Fault injection for tests: runs right after each committed append. */
      afterAppend?: (record: JournalRecord) => void;
      /** Fields for every flow's opening entry: `{ operator }` while an operator is signed in. */
      stamp?: () => Record<string, unknown>;
    } = {},
  ) {}

  record(
    flowId: string,
    flowKind: FlowKind,
    step: string,
    fields: Record<string, unknown> = {},
    /** The flow's facts for the log's index (db/flow-facts.ts): passed at 'started' and closing steps. */
    facts?: FlowFacts,
  ): JournalRecord {
    // The opening entry carries who ran the flow, in its payload (hash-chained) and its facts (indexed).
    const stamp = OPENING_STEPS[flowKind].includes(step) ? this.listeners.stamp?.() : undefined;
    const payload = stamp ? { ...fields, ...stamp } : fields;
    const operatorId = typeof stamp?.operator === 'string' ? stamp.operator : undefined;
    const record = this.journal.append(
      { flowId, flowKind, step, payload },
      operatorId === undefined ? facts : { operatorId, ...facts },
    );
    this.listeners.afterAppend?.(record);
    this.listeners.onStep?.({ flowId, flowKind, step, payload, seq: record.seq });
    return record;
  }

  entries(flowId: string): JournalRecord[] {
    return this.journal.entriesForFlow(flowId);
  }
}

/**
 * The entry a flow's fold starts from: its first, which must be the 'started' step. Anything else
 * means the journal and the code disagree about the flow (E_INTERNAL), whichever fold reads it.
 */
export function startedEntry(entries: readonly JournalRecord[], kind: FlowKind): JournalRecord {
  const first = entries[0];
  if (first?.step !== 'started') {
    throw new TerminalError('E_INTERNAL', `a ${kind} flow must begin with its started entry`, {
      flowId: first?.flowId,
      step: first?.step,
    });
  }
  return first;
}
