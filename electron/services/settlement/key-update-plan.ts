// Decides, from the two cards' public info, which transfer-key (and update-key) updates must run
// before a value transfer, by which route, and why (seed 002 S1003, S4003, S6003, S7003).
import { KEY_ROUTE, type KeyRoute } from '../../../protocol/settlement/commands.js';

export type { SlotName } from '../slots/reader-slots.js';

import type { SlotName } from '../slots/reader-slots.js';

export interface CardKeyInfo {
  transferKeyId: number;
  transferKeyIdLimit: number;
  prestoredTransferKeyIds: number[];
  updateKeyId: number;
  updateKeyIdLimit: number;
}

export interface KeyUpdateStep {
  receiver: SlotName;
  sender: SlotName;
  route: KeyRoute;
  /** What the receiver should hold afterwards. */
  expect: { transferKeyId: number; updateKeyId: number };
  reason: string;
}

export type KeyUpdatePlan =
  | { kind: 'ready'; steps: KeyUpdateStep[] }
  | { kind: 'refused'; reason: string; slot: SlotName };

const other = (s: SlotName): SlotName => (s === 'payer' ? 'payee' : 'payer');

export const ROUTE_NAME: Record<KeyRoute, string> = {
  [KEY_ROUTE.COMMON_KEY]: 'common-key',
  [KEY_ROUTE.PUBLIC_KEY]: 'public-key',
  [KEY_ROUTE.PRESTORED_SWITCH]: 'pre-stored switch',
};

export function planKeyUpdate(cards: Record<SlotName, CardKeyInfo>): KeyUpdatePlan {
  const steps: KeyUpdateStep[] = [];
  const state = { payer: { ...cards.payer }, payee: { ...cards.payee } };

  if (state.payer.transferKeyId !== state.payee.transferKeyId) {
    const sender: SlotName = state.payer.transferKeyId > state.payee.transferKeyId ? 'payer' : 'payee';
    const receiver = other(sender);
    const s = state[sender];
    const r = state[receiver];
    if (s.transferKeyId > r.transferKeyIdLimit) {
      return {
        kind: 'refused',
        slot: receiver,
        reason: `the ${receiver} card cannot take transfer key ${s.transferKeyId}: its upper limit is ${r.transferKeyIdLimit} (the card must be replaced)`,
      };
    }
    const sharedUpdateKey = r.updateKeyId !== 0 && r.updateKeyId === s.updateKeyId;
    let route: KeyRoute;
    let reason: string;
    if (sharedUpdateKey && r.prestoredTransferKeyIds.includes(s.transferKeyId)) {
      route = KEY_ROUTE.PRESTORED_SWITCH;
      reason = `the ${receiver} card already holds transfer key ${s.transferKeyId}; switching by ID under update key ${r.updateKeyId}`;
    } else if (sharedUpdateKey) {
      route = KEY_ROUTE.COMMON_KEY;
      reason = `transfer key ${r.transferKeyId} → ${s.transferKeyId}; both cards hold update key ${r.updateKeyId}`;
    } else {
      route = KEY_ROUTE.PUBLIC_KEY;
      reason = `transfer key ${r.transferKeyId} → ${s.transferKeyId}; update keys differ (${r.updateKeyId} vs ${s.updateKeyId}), so by public key with certificates`;
    }
    const takesUpdateKey =
      route === KEY_ROUTE.PUBLIC_KEY &&
      s.updateKeyId !== 0 &&
      s.updateKeyId > r.updateKeyId &&
      s.updateKeyId <= r.updateKeyIdLimit;
    if (takesUpdateKey) r.updateKeyId = s.updateKeyId;
    r.transferKeyId = s.transferKeyId;
    steps.push({
      receiver,
      sender,
      route,
      reason,
      expect: { transferKeyId: r.transferKeyId, updateKeyId: r.updateKeyId },
    });
  }

  // Embodiment 5: bring the older update key forward too, so the next update can take the fast route.
  if (state.payer.updateKeyId !== state.payee.updateKeyId) {
    const sender: SlotName = state.payer.updateKeyId > state.payee.updateKeyId ? 'payer' : 'payee';
    const receiver = other(sender);
    if (state[sender].updateKeyId <= state[receiver].updateKeyIdLimit) {
      steps.push({
        receiver,
        sender,
        route: KEY_ROUTE.PUBLIC_KEY,
        reason: `update key ${state[receiver].updateKeyId} → ${state[sender].updateKeyId} by public key`,
        expect: { transferKeyId: state[receiver].transferKeyId, updateKeyId: state[sender].updateKeyId },
      });
    }
  }
  return { kind: 'ready', steps };
}
