// Writes flow steps to the journal. append() returns only after SQLite has committed the entry
// (WAL, synchronous=FULL), so "journaled before the next APDU is sent" holds for every caller.
import type { FlowKind, Journal, JournalRecord } from '../../../db/journal.js';

export interface StepEvent {
  flowId: string;
  flowKind: FlowKind;
  step: string;
  payload: Record<string, unknown>;
  seq: number;
}

export class FlowRecorder {
  constructor(
    private readonly journal: Journal,
    private readonly listeners: {
      onStep?: (event: StepEvent) => void;
      /** Fault injection for tests: runs right after each committed append. */
      afterAppend?: (record: JournalRecord) => void;
    } = {},
  ) {}

  record(
    flowId: string,
    flowKind: FlowKind,
    step: string,
    payload: Record<string, unknown> = {},
  ): JournalRecord {
    const record = this.journal.append({ flowId, flowKind, step, payload });
    this.listeners.afterAppend?.(record);
    this.listeners.onStep?.({ flowId, flowKind, step, payload, seq: record.seq });
    return record;
  }

  entries(flowId: string): JournalRecord[] {
    return this.journal.entriesForFlow(flowId);
  }
}
