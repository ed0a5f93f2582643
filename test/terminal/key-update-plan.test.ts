import { describe, expect, it } from 'vitest';
import { type CardKeyInfo, planKeyUpdate } from '../../electron/services/settlement/key-update-plan.js';
import { KEY_ROUTE } from '../../protocol/settlement/commands.js';

const card = (o: Partial<CardKeyInfo> = {}): CardKeyInfo => ({
  transferKeyId: 1,
  transferKeyIdLimit: 9,
  prestoredTransferKeyIds: [],
  updateKeyId: 1,
  updateKeyIdLimit: 9,
  ...o,
});

describe('key-update plan (seed S4003/S7003)', () => {
  it('does nothing when both cards hold the same keys', () => {
    expect(planKeyUpdate({ payer: card(), payee: card() })).toEqual({ kind: 'ready', steps: [] });
  });

  it('updates the older card by the common-key route when update keys match', () => {
    const plan = planKeyUpdate({ payer: card({ transferKeyId: 3 }), payee: card({ transferKeyId: 2 }) });
    expect(plan).toMatchObject({
      kind: 'ready',
      steps: [{ receiver: 'payee', sender: 'payer', route: KEY_ROUTE.COMMON_KEY }],
    });
  });

  it('switches by ID when the older card holds the newer key in advance', () => {
    const plan = planKeyUpdate({
      payer: card({ prestoredTransferKeyIds: [2, 3] }),
      payee: card({ transferKeyId: 3 }),
    });
    expect(plan).toMatchObject({ steps: [{ receiver: 'payer', route: KEY_ROUTE.PRESTORED_SWITCH }] });
  });

  it('takes the public-key route when update keys differ, moving the update key forward with it', () => {
    const plan = planKeyUpdate({
      payer: card({ transferKeyId: 1, updateKeyId: 1 }),
      payee: card({ transferKeyId: 2, updateKeyId: 2 }),
    });
    expect(plan).toMatchObject({
      steps: [
        { receiver: 'payer', route: KEY_ROUTE.PUBLIC_KEY, expect: { transferKeyId: 2, updateKeyId: 2 } },
      ],
    });
  });

  it('adds an update-key step when the card with the newer transfer key has the older update key', () => {
    const plan = planKeyUpdate({
      payer: card({ transferKeyId: 1, updateKeyId: 2 }),
      payee: card({ transferKeyId: 2, updateKeyId: 1 }),
    });
    expect(plan).toMatchObject({
      steps: [
        {
          receiver: 'payer',
          sender: 'payee',
          route: KEY_ROUTE.PUBLIC_KEY,
          expect: { transferKeyId: 2, updateKeyId: 2 },
        },
        {
          receiver: 'payee',
          sender: 'payer',
          route: KEY_ROUTE.PUBLIC_KEY,
          expect: { transferKeyId: 2, updateKeyId: 2 },
        },
      ],
    });
  });

  it('gives a card without update key the update key by public key', () => {
    const plan = planKeyUpdate({ payer: card({ updateKeyId: 0 }), payee: card() });
    expect(plan).toMatchObject({ steps: [{ receiver: 'payer', route: KEY_ROUTE.PUBLIC_KEY }] });
  });

  it('refuses when the older card cannot take the newer key within its limit', () => {
    const plan = planKeyUpdate({
      payer: card({ transferKeyId: 1, transferKeyIdLimit: 2 }),
      payee: card({ transferKeyId: 3 }),
    });
    expect(plan).toMatchObject({ kind: 'refused', slot: 'payer' });
  });

  it('skips an update-key step over the receiver’s update-key limit', () => {
    const plan = planKeyUpdate({
      payer: card({ updateKeyId: 1, updateKeyIdLimit: 1 }),
      payee: card({ updateKeyId: 2 }),
    });
    expect(plan).toEqual({ kind: 'ready', steps: [] });
  });
});
