import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/connection.js';
import { Flows, TERMINAL_STEPS } from '../../db/flows.js';
import { Journal } from '../../db/journal.js';
import { businessDayBounds } from '../../electron/services/receipts/business-day.js';
import { stepClock, useTempDir } from './helpers.js';

const tmp = useTempDir();
let files = 0;

function setup(now: () => Date = stepClock()) {
  const db = tmp.track(openDatabase(tmp.path(`flows-${++files}.db`)));
  return { db, journal: new Journal(db, { now }), flows: new Flows(db) };
}

const ALICE = { holderId: 'A11CE000000000000000000000000001', label: 'Alice Martin' };
const SHOP = { holderId: '5E0B0000000000000000000000000002', label: 'Corner Shop' };

describe('flow state', () => {
  it('lists open flows oldest first, with their facts; a closed flow by ID', () => {
    const { journal, flows } = setup();
    journal.append(
      { flowId: 'done', flowKind: 'value-transfer', step: 'started', payload: { amount: 5 } },
      { amount: 5, currency: 978, cards: [ALICE, SHOP] },
    );
    journal.append(
      { flowId: 'in-doubt', flowKind: 'value-transfer', step: 'started', payload: { amount: 7 } },
      { amount: 7, currency: 978, cards: [ALICE, SHOP], operatorId: 'op-1' },
    );
    journal.append({ flowId: 'done', flowKind: 'value-transfer', step: 'completed', payload: {} });
    journal.append({ flowId: 'keys', flowKind: 'key-update', step: 'planned', payload: {} });
    journal.append({ flowId: 'in-doubt', flowKind: 'value-transfer', step: 'debited', payload: {} });

    expect(flows.openFlows()).toEqual([
      {
        flowId: 'in-doubt',
        flowKind: 'value-transfer',
        firstSeq: 2,
        lastSeq: 5,
        openedAt: '2025-01-01T00:00:01.000Z',
        updatedAt: '2025-01-01T00:00:04.000Z',
        lastStep: 'debited',
        terminal: false,
        amount: 7,
        currency: 978,
        cards: [ALICE, SHOP],
        operatorId: 'op-1',
        refundOf: undefined,
        direction: undefined,
        items: [],
      },
      expect.objectContaining({ flowId: 'keys', lastStep: 'planned', terminal: false, cards: [] }),
    ]);
    expect(flows.flow('done')).toMatchObject({
      terminal: true,
      lastStep: 'completed',
      firstSeq: 1,
      lastSeq: 3,
    });
    expect(flows.flow('unknown')).toBeUndefined();
    expect(flows.flow('')).toBeUndefined();
  });

  it('keeps the first value of each fact, a card’s newest label, and a flow’s items', () => {
    const { journal, flows } = setup();
    journal.append(
      { flowId: 'sale', flowKind: 'content-exchange', step: 'started', payload: {} },
      {
        amount: 1500,
        cards: [{ holderId: ALICE.holderId }, SHOP],
        items: [
          { label: 'Concert\u0007 24 Dec ', type: 'ticket' },
          { label: 'Odd', type: 'Not A Type' },
        ],
      },
    );
    journal.append(
      { flowId: 'sale', flowKind: 'content-exchange', step: 'completed', payload: {} },
      { amount: 99, operatorId: 'op-2', items: [{ label: 'ignored' }] },
    );
    journal.append(
      { flowId: 'other', flowKind: 'value-transfer', step: 'started', payload: {} },
      { cards: [{ holderId: ALICE.holderId, label: 'Alice Renamed' }] },
    );
    expect(flows.flow('sale')).toMatchObject({
      amount: 1500,
      operatorId: 'op-2',
      cards: [{ holderId: ALICE.holderId, label: 'Alice Renamed' }, SHOP],
      items: [{ label: 'Concert 24 Dec', type: 'ticket' }, { label: 'Odd' }],
    });
  });

  it('closedOn: the flows of one kind closed on one UTC day, and a malformed day refused', () => {
    let now = new Date('2026-11-20T23:59:59.000Z');
    const { journal, flows } = setup(() => now);
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
    expect(flows.closedOn('value-transfer', '2026-11-21').map((f) => f.flowId)).toEqual(['morning', 'night']);
    expect(flows.closedOn('key-update', '2026-11-21').map((f) => f.flowId)).toEqual(['keys']);
    for (const bad of ['2026-11-1', '21.11.2026', '', "2026-11-21' OR 1=1"]) {
      expect(() => flows.closedOn('value-transfer', bad)).toThrow(/day must be YYYY-MM-DD/);
    }
  });

  it('agrees with TERMINAL_STEPS: each one closes a flow, anything else leaves it open', () => {
    const { journal, flows } = setup();
    for (const step of TERMINAL_STEPS) {
      journal.append({ flowId: `f-${step}`, flowKind: 'value-transfer', step: 'started', payload: {} });
      journal.append({ flowId: `f-${step}`, flowKind: 'value-transfer', step, payload: {} });
      expect(flows.flow(`f-${step}`)?.terminal).toBe(true);
    }
    for (const step of ['interrupted', 'aborted', 'credited', 'some-new-step']) {
      journal.append({ flowId: `f-${step}`, flowKind: 'value-transfer', step, payload: {} });
      expect(flows.flow(`f-${step}`)?.terminal).toBe(false);
    }
  });

  it('rebuildFlowState recomputes exactly what the writer maintained', () => {
    const { db, journal, flows } = setup();
    const steps = ['started', 'debit-sent', ...TERMINAL_STEPS, 'unknown-step'];
    steps.forEach((step, i) => {
      journal.append({ flowId: `flow-${i % 3}`, flowKind: 'value-transfer', step, payload: {} });
    });
    const maintained = flows.all();
    db.handle.exec('UPDATE flow SET last_seq = flow_no, closed = 1 - closed');
    expect(flows.all()).not.toEqual(maintained);
    expect(flows.rebuildFlowState()).toEqual({ flows: 3 });
    expect(flows.all()).toEqual(maintained);
  });
});

describe('end of day by an instant range', () => {
  // A business day in Kathmandu (UTC+05:45): 2026-11-21 runs from 2026-11-20T18:15Z to 2026-11-21T18:15Z.
  const ZONE = 'Asia/Kathmandu';
  const day = businessDayBounds('2026-11-21', ZONE);

  function dayOfFlows() {
    let now = new Date(0);
    const s = setup(() => now);
    const flow = (
      flowId: string,
      at: string,
      facts: Parameters<Journal['append']>[1],
      last = 'completed',
      kind: 'value-transfer' | 'content-exchange' | 'admin' = 'value-transfer',
    ) => {
      now = new Date(Date.parse(at) - 1000);
      s.journal.append({ flowId, flowKind: kind, step: 'started', payload: {} }, facts);
      now = new Date(at);
      if (last !== '') s.journal.append({ flowId, flowKind: kind, step: last, payload: {} });
    };
    flow('before-midnight', '2026-11-20T18:14:59.999Z', { amount: 1, cards: [ALICE, SHOP] });
    flow('first-sale', '2026-11-20T18:15:00.000Z', {
      amount: 1000,
      cards: [ALICE, SHOP],
      operatorId: 'anna',
      direction: 'in',
    });
    flow('second-sale', '2026-11-21T12:00:00.000Z', {
      amount: 250,
      cards: [ALICE, SHOP],
      operatorId: 'ben',
      direction: 'in',
    });
    flow('refund', '2026-11-21T13:00:00.000Z', {
      amount: 250,
      cards: [SHOP, ALICE],
      operatorId: 'ben',
      refundOf: 'second-sale',
      direction: 'out',
    });
    flow(
      'refused',
      '2026-11-21T14:00:00.000Z',
      { amount: 5000, cards: [ALICE, SHOP], operatorId: 'anna' },
      'failed-no-value-moved',
    );
    flow(
      'ticket',
      '2026-11-21T15:00:00.000Z',
      {
        amount: 1500,
        cards: [ALICE, SHOP],
        items: [{ label: 'Concert', type: 'ticket' }],
        operatorId: 'anna',
        direction: 'in',
      },
      'completed',
      'content-exchange',
    );
    flow(
      'issued',
      '2026-11-21T16:00:00.000Z',
      { cards: [SHOP], items: [{ label: 'Concert', type: 'ticket' }] },
      'completed',
      'admin',
    );
    flow(
      'in-doubt',
      '2026-11-21T17:00:00.000Z',
      { amount: 70, cards: [ALICE, SHOP], operatorId: 'anna' },
      'debited',
    );
    flow('last-instant', '2026-11-21T18:14:59.999Z', {
      amount: 2,
      cards: [ALICE, SHOP],
      operatorId: 'anna',
      direction: 'in',
    });
    flow('next-day', '2026-11-21T18:15:00.000Z', { amount: 3, cards: [ALICE, SHOP] });
    flow('old-doubt', '2026-11-19T10:00:00.000Z', { amount: 9, cards: [ALICE, SHOP] }, '');
    return s;
  }

  it('counts and totals per kind, outcome, refund, direction and operator, on the local day’s instants', () => {
    const { flows } = dayOfFlows();
    const summary = flows.summary({ from: day.start, to: day.end });
    const line = (o: Partial<(typeof summary.lines)[number]>) =>
      summary.lines.filter((l) => Object.entries(o).every(([k, v]) => l[k as keyof typeof l] === v));
    const sales = line({ kind: 'value-transfer', outcome: 'completed', refund: false });
    expect(sales.map((l) => [l.operatorId, l.count, l.amount]).sort()).toEqual([
      ['anna', 2, 1002],
      ['ben', 1, 250],
    ]);
    expect(line({ refund: true })).toEqual([
      {
        kind: 'value-transfer',
        outcome: 'completed',
        refund: true,
        direction: 'out',
        operatorId: 'ben',
        count: 1,
        amount: 250,
        items: 0,
      },
    ]);
    expect(line({ outcome: 'failed-no-value-moved' })).toMatchObject([
      { count: 1, amount: 5000, operatorId: 'anna' },
    ]);
    expect(line({ kind: 'content-exchange' })).toMatchObject([
      { count: 1, amount: 1500, items: 1, direction: 'in' },
    ]);
    expect(line({ kind: 'admin' })).toMatchObject([{ count: 1, amount: 0, items: 1 }]);
    expect(line({ outcome: 'open' })).toMatchObject([{ kind: 'value-transfer', count: 1, amount: 70 }]);
    const total = summary.lines.reduce((n, l) => n + l.count, 0);
    expect(total).toBe(8);
    // Every open flow, whenever it started: the in-doubt candidates.
    expect(summary.open.map((f) => f.flowId)).toEqual(['in-doubt', 'old-doubt']);
    expect(flows.inRange({ from: day.start, to: day.end }).map((f) => f.flowId)).toEqual([
      'first-sale',
      'second-sale',
      'refund',
      'refused',
      'ticket',
      'issued',
      'last-instant',
      'in-doubt',
    ]);
  });

  it('refuses a range that is not two instants in order', () => {
    const { flows } = setup();
    for (const r of [
      { from: day.end, to: day.start },
      { from: day.start, to: day.start },
      { from: new Date(Number.NaN), to: day.end },
      {},
    ]) {
      expect(() => flows.summary(r as never)).toThrow(expect.objectContaining({ code: 'E_INPUT_INVALID' }));
    }
  });
});

describe('Flows.search', () => {
  function searchable() {
    const s = setup();
    for (let i = 0; i < 7; i++) {
      const flowId = `${i % 2 === 0 ? 'aaaa' : 'bbbb'}${String(i).padStart(4, '0')}-0000-4000-8000-00000000000${i}`;
      const customer = {
        holderId: `C0${i % 3}0000000000000000000000000000${i % 3}`,
        label: ['Zoë Müller', 'Jean Dupont', 'Ana Müller-Lüdenscheidt'][i % 3],
      };
      s.journal.append(
        { flowId, flowKind: 'value-transfer', step: 'started', payload: {} },
        { amount: i % 2 === 0 ? 500 : 700, cards: [customer, SHOP] },
      );
    }
    return s;
  }

  it('by flow ID (exact or 4+ characters), holder ID prefix, label words and amount, newest first', () => {
    const { flows } = searchable();
    const ids = (c: Parameters<Flows['search']>[0], limit = 10) =>
      flows.search(c, { limit }).flows.map((f) => f.firstSeq);
    expect(ids({ flowId: 'aaaa' })).toEqual([7, 5, 3, 1]);
    expect(ids({ flowId: 'AAAA0002-0000' })).toEqual([3]);
    expect(ids({ flowId: 'bbbb0003-0000-4000-8000-000000000003' })).toEqual([4]);
    expect(ids({ holderId: 'c010' })).toEqual([5, 2]);
    expect(ids({ holderId: '5E0B' })).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(ids({ label: 'muller' })).toEqual([7, 6, 4, 3, 1]);
    expect(ids({ label: 'lüd' })).toEqual([6, 3]);
    expect(ids({ label: 'dupont jean' })).toEqual([5, 2]);
    expect(ids({ amount: 700 })).toEqual([6, 4, 2]);
    expect(ids({ text: '700' })).toEqual([6, 4, 2]);
    expect(ids({ text: 'c020' })).toEqual([6, 3]);
    expect(ids({ amount: 1 })).toEqual([]);
    expect(ids({ kind: 'value-transfer' })).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(ids({ text: 'Value-Transfer' })).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(ids({ kind: 'admin' })).toEqual([]);
    expect(ids(undefined)).toEqual([7, 6, 5, 4, 3, 2, 1]);
  });

  it('pages with a cursor that never leads to an empty page, also when the last page is exactly full', () => {
    const { flows } = searchable();
    const first = flows.search({ amount: 500 }, { limit: 2 });
    expect(first.flows.map((f) => f.firstSeq)).toEqual([7, 5]);
    const second = flows.search({ amount: 500 }, { limit: 2, beforeFlowNo: first.nextBeforeFlowNo });
    expect(second.flows.map((f) => f.firstSeq)).toEqual([3, 1]);
    expect(second.nextBeforeFlowNo).toBeUndefined();
    const all = flows.search(undefined, { limit: 7 });
    expect(all.nextBeforeFlowNo).toBeUndefined();
    expect(flows.search(undefined, { limit: 6 }).nextBeforeFlowNo).toBe(2);
  });

  it('refuses searches that are not: too short, too wide, or malformed', () => {
    const { flows } = searchable();
    const refused = [
      { flowId: 'aa' },
      { holderId: 'c0' },
      { holderId: 'xyz1' },
      { label: ' ' },
      { label: '---' },
      { amount: 0 },
      { amount: 1.5 },
      { kind: 'teleport' },
      { flowId: 'x'.repeat(300) },
      { nonsense: 1 },
    ];
    for (const c of refused) {
      expect(() => flows.search(c as never, { limit: 5 })).toThrow(
        expect.objectContaining({ code: 'E_INPUT_INVALID' }),
      );
    }
    for (const cursor of [{ limit: 0 }, { limit: 1001 }, { limit: 5, beforeFlowNo: 0 }]) {
      expect(() => flows.search(undefined, cursor)).toThrow(
        expect.objectContaining({ code: 'E_INPUT_INVALID' }),
      );
    }
    // Free text that is none of these finds nothing rather than everything.
    expect(flows.search({ text: '%' }, { limit: 5 }).flows).toEqual([]);
  });
});
