// An interrupted key update is settled by recovery: once APPLY KEY UPDATE may have reached the
// receiver, only the card knows whether it took the keys, so the flow stays open ('interrupted')
// until the receiver is read; a terminal that stopped mid-update leaves its flow open the same way.
// Found by the fault campaign (test/campaign): such flows used to stay open in the log for ever.
import { describe, expect, it } from 'vitest';
import { INS } from '../../protocol/settlement/commands.js';
import { makeTerminal, type TerminalUnderTest } from '../support/terminal-fixtures.js';

const OLDER_PAYER = { payer: { transferKeyId: 1 }, payee: { transferKeyId: 2 } };
const steps = (t: TerminalUnderTest) => {
  const flow = t.flows.all().find((f) => f.flowKind === 'key-update');
  return flow ? t.journal.entriesForFlow(flow.flowId).map((e) => e.step) : [];
};
const once = (ins: number) => {
  let fired = false;
  return (apdu: Uint8Array) => {
    if (fired || apdu[1] !== ins) return false;
    fired = true;
    return true;
  };
};
const applyOnce = () => once(INS.APPLY_KEY_UPDATE);

describe('key update interrupted, then recovered', () => {
  it('answer lost after the card applied the keys: interrupted, then completed by recovery', async () => {
    const t = makeTerminal(OLDER_PAYER);
    t.slots.stallAfterCard('payer', { when: applyOnce() });
    await expect(t.engine.updateKeys()).rejects.toMatchObject({ code: 'E_TRANSPORT_TIMEOUT' });
    expect(steps(t)).toEqual(['planned', 'interrupted']);
    expect(t.flows.openFlows().map((f) => f.flowKind)).toEqual(['key-update']);
    expect(t.cards.payer.store.read().transferKeyId).toBe(2); // the card took them

    t.slots.clearFaults('payer');
    t.slots.remove('payer');
    t.slots.insert('payer', t.cards.payer.os);
    await t.engine.recover();
    expect(steps(t).at(-1)).toBe('completed');
    const last = t.journal.entriesForFlow(t.flows.all()[0]!.flowId).at(-1)!;
    expect(last.payload).toMatchObject({ transferKeyId: 2, recovered: true });
    expect(t.flows.openFlows()).toEqual([]);
    expect(t.journal.verify()).toMatchObject({ ok: true });
  });

  it('command lost before the card saw it: interrupted, then closed as failed with the old keys', async () => {
    const t = makeTerminal(OLDER_PAYER);
    t.slots.stall('payer', { when: applyOnce() });
    await expect(t.engine.updateKeys()).rejects.toMatchObject({ code: 'E_TRANSPORT_TIMEOUT' });
    expect(steps(t).at(-1)).toBe('interrupted');
    expect(t.cards.payer.store.read().transferKeyId).toBe(1);

    t.slots.clearFaults('payer');
    t.slots.remove('payer');
    t.slots.insert('payer', t.cards.payer.os);
    await t.engine.recover();
    expect(steps(t).at(-1)).toBe('failed-no-value-moved');
    expect(t.flows.openFlows()).toEqual([]);
    // The next update plans again from what the cards hold, and completes.
    expect((await t.engine.updateKeys()).map((s) => s.receiver)).toEqual(['payer']);
    expect(t.cards.payer.store.read().transferKeyId).toBe(2);
  });

  it('interrupted before APPLY was sent: closed at once, the receiver kept its keys', async () => {
    const t = makeTerminal(OLDER_PAYER);
    t.slots.stall('payee', { when: once(INS.EXPORT_TRANSFER_KEY) });
    await expect(t.engine.updateKeys()).rejects.toMatchObject({ code: 'E_TRANSPORT_TIMEOUT' });
    expect(steps(t)).toEqual(['planned', 'failed-no-value-moved']);
    expect(t.flows.openFlows()).toEqual([]);
    expect(t.cards.payer.store.read().transferKeyId).toBe(1);
  });

  it('a receiver absent at recovery leaves the flow open (no value is in doubt)', async () => {
    const t = makeTerminal(OLDER_PAYER);
    t.slots.stallAfterCard('payer', { when: applyOnce() });
    await expect(t.engine.updateKeys()).rejects.toMatchObject({ code: 'E_TRANSPORT_TIMEOUT' });
    t.slots.remove('payer');
    await t.engine.recover();
    expect(steps(t).at(-1)).toBe('interrupted');
    expect(t.engine.inDoubt()).toEqual([]);
  });
});
