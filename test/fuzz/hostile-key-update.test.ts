// A hostile card at each command of a transfer-key update (common-key route: BEGIN to the receiver,
// EXPORT to the sender, APPLY to the receiver). The update is refused with a typed error and
// journaled; the receiver holds its old keys or the new ones, never anything else; no value moves;
// once the cards are honest again the update and a transfer go through.
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, isTerminalError } from '../../protocol/errors.js';
import {
  armOnce,
  type HostileKind,
  honestAgain,
  KEY_UPDATE_COMMANDS,
  makeHostileTerminal,
  swapCard,
} from './hostile-terminal.js';

const KINDS: HostileKind[] = [
  'garbage',
  'corrupt',
  'short',
  'oversized',
  'endless-chain',
  'no-status-word',
  'replay',
  'lie-refused',
  'refuse',
  'fake-ok',
  'slow-before-card',
  'slow-after-card',
];

describe('a hostile card at each command of a key update', () => {
  const matrix = KEY_UPDATE_COMMANDS.flatMap(([name, ins, slot]) =>
    KINDS.map((kind) => [name, kind, ins, slot] as const),
  );

  it.each(matrix)('%s: %s', async (_name, kind, ins, slot) => {
    const t = makeHostileTerminal({ payer: { transferKeyId: 1 }, payee: { transferKeyId: 2 } });
    let expectedKey = 2;
    if (kind === 'replay') {
      // What it replays: an earlier update with the same card in the same role. The receiver takes
      // key 2 first (and then meets a card on key 3); the sender gives key 2 first to another card.
      expect(await t.engine.updateKeys()).toHaveLength(1);
      if (slot === 'payer') {
        await swapCard(t, 'payee', { transferKeyId: 3 });
        expectedKey = 3;
      } else await swapCard(t, 'payer', { transferKeyId: 1 });
    }
    const before = t.balances();
    const receiverKeyBefore = t.cards.payer.store.read().transferKeyId;
    const fired = armOnce(t, slot, ins, kind);
    const error = await t.engine.updateKeys().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(fired(), String(error)).toBe(true);

    if (error !== undefined) {
      expect(isTerminalError(error), String(error)).toBe(true);
      if (isTerminalError(error)) {
        expect(Object.keys(ERROR_CODES)).toContain(error.code);
        expect(error.code).not.toBe('E_INTERNAL');
      }
      // The failed update is journaled with what went wrong (an interruption after APPLY is
      // settled later from the receiver's keys).
      const [last] = t.journal.page({ limit: 1, search: 'key-update' }).records;
      const failed = t.journal
        .page({ limit: 50 })
        .records.filter(
          (e) => e.flowKind === 'key-update' && ['failed-no-value-moved', 'interrupted'].includes(e.step),
        );
      expect(failed.length, JSON.stringify(last)).toBeGreaterThan(0);
      expect(failed.every((e) => typeof e.payload.message === 'string')).toBe(true);
    }
    // The receiver holds its old key or the new one; nothing moved.
    expect([receiverKeyBefore, expectedKey]).toContain(t.cards.payer.store.read().transferKeyId);
    expect(t.balances()).toEqual(before);
    expect(t.journal.verify()).toMatchObject({ ok: true });

    honestAgain(t);
    await t.engine.updateKeys();
    expect(t.cards.payer.store.read().transferKeyId).toBe(expectedKey);
    expect(await t.engine.transfer({ amount: 10 })).toMatchObject({ status: 'completed' });
  });
});
