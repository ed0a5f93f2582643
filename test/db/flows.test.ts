import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/connection.js';
import { Flows, TERMINAL_STEPS } from '../../db/flows.js';
import { Journal } from '../../db/journal.js';
import { stepClock, useTempDir } from './helpers.js';

const tmp = useTempDir();

function setup() {
  const db = tmp.track(openDatabase(tmp.path()));
  return { db, journal: new Journal(db, { now: stepClock() }), flows: new Flows(db) };
}

describe('flow state', () => {
  it('lists flows whose last step is not terminal, oldest first', () => {
    const { journal, flows } = setup();
    journal.append({
      flowId: 'done',
      flowKind: 'value-transfer',
      step: 'debit-sent',
      payload: { amount: 5 },
    });
    journal.append({
      flowId: 'in-doubt',
      flowKind: 'value-transfer',
      step: 'debit-sent',
      payload: { amount: 7 },
    });
    journal.append({ flowId: 'done', flowKind: 'value-transfer', step: 'completed', payload: {} });
    journal.append({ flowId: 'keys', flowKind: 'key-update', step: 'started', payload: {} });
    journal.append({ flowId: 'in-doubt', flowKind: 'value-transfer', step: 'credit-sent', payload: {} });

    expect(flows.openFlows()).toEqual([
      {
        flowId: 'in-doubt',
        flowKind: 'value-transfer',
        firstSeq: 2,
        lastSeq: 5,
        openedAt: '2025-01-01T00:00:01.000Z',
        updatedAt: '2025-01-01T00:00:04.000Z',
        lastStep: 'credit-sent',
        terminal: false,
      },
      expect.objectContaining({ flowId: 'keys', lastStep: 'started', terminal: false }),
    ]);
    expect(flows.flow('done')).toMatchObject({
      terminal: true,
      lastStep: 'completed',
      firstSeq: 1,
      lastSeq: 3,
    });
    expect(flows.flow('unknown')).toBeUndefined();
  });

  it('closedOn: the flows of one kind closed on one UTC day, and a malformed day refused', () => {
    const db = tmp.track(openDatabase(tmp.path()));
    let now = new Date('2026-11-20T23:59:59.000Z');
    const journal = new Journal(db, { now: () => now });
    const flows = new Flows(db);
    const close = (flowId: string, at: string, kind: 'value-transfer' | 'key-update' = 'value-transfer') => {
      now = new Date(at);
      journal.append({ flowId, flowKind: kind, step: 'started', payload: {} });
      journal.append({ flowId, flowKind: kind, step: 'completed', payload: {} });
    };
    close('eve', '2026-11-20T23:59:59.999Z');
    close('morning', '2026-11-21T00:00:00.000Z');
    close('night', '2026-11-21T23:59:59.999Z');
    close('keys', '2026-11-21T12:00:00.000Z', 'key-update');
    close('next', '2026-11-22T00:00:00.000Z');
    now = new Date('2026-11-21T10:00:00.000Z');
    journal.append({ flowId: 'open', flowKind: 'value-transfer', step: 'started', payload: {} });
    expect(flows.closedOn('value-transfer', '2026-11-21').map((f) => f.flowId)).toEqual(['morning', 'night']);
    expect(flows.closedOn('key-update', '2026-11-21').map((f) => f.flowId)).toEqual(['keys']);
    for (const bad of ['2026-11-2', '2026-11-21T', "2026-11-21' OR 1=1 --", '']) {
      expect(() => flows.closedOn('value-transfer', bad)).toThrow(/day must be YYYY-MM-DD/);
    }
  });

  it('agrees with TERMINAL_STEPS: each one closes a flow, anything else leaves it open', () => {
    const { journal, flows } = setup();
    for (const step of TERMINAL_STEPS) {
      journal.append({ flowId: `f-${step}`, flowKind: 'content-transfer', step: 'started', payload: {} });
      journal.append({ flowId: `f-${step}`, flowKind: 'content-transfer', step, payload: {} });
    }
    journal.append({
      flowId: 'f-open',
      flowKind: 'content-transfer',
      step: 'completed-partially',
      payload: {},
    });
    expect(flows.openFlows().map((f) => f.flowId)).toEqual(['f-open']);
    // A flow reopened by a later step (e.g. a recovery note after completion) is open again.
    journal.append({
      flowId: 'f-completed',
      flowKind: 'content-transfer',
      step: 'recovery-check',
      payload: {},
    });
    expect(flows.openFlows().map((f) => f.flowId)).toEqual(['f-completed', 'f-open']);
  });

  it('rebuildFlowState recomputes exactly what the trigger maintained', () => {
    const { db, journal, flows } = setup();
    const kinds = ['value-transfer', 'content-exchange', 'recovery'] as const;
    const steps = ['started', 'debit-sent', 'credit-sent', ...TERMINAL_STEPS];
    for (let i = 0; i < 60; i++) {
      const flow = i % 7;
      journal.append({
        flowId: `flow-${flow}`,
        flowKind: kinds[flow % kinds.length]!,
        step: steps[(i * 5 + flow) % steps.length]!,
        payload: { i },
      });
    }
    const maintained = flows.all();
    expect(maintained).toHaveLength(7);

    // Corrupt the cache (it is not a protected table), then rebuild from the journal.
    db.handle.exec(
      "DELETE FROM flow_state WHERE flow_id = 'flow-0'; UPDATE flow_state SET terminal = 1 - terminal",
    );
    expect(flows.rebuildFlowState()).toEqual({ flows: 7 });
    expect(flows.all()).toEqual(maintained);
  });
});
