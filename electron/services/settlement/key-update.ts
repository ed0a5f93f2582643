// Terminal steps of the transfer-key update (seed S1004–S1006, S3004–S3006, S6004–S6006,
// S8004–S8006), each journaled as its own 'key-update' flow. A key update moves no value: an
// interrupted one leaves the receiver with its old keys or the new ones (the card commits
// atomically), and the next transfer simply plans again.
import { randomUUID } from 'node:crypto';
import { isTerminalError, TerminalError, toTerminalError } from '../../../protocol/errors.js';
import { KEY_ROUTE } from '../../../protocol/settlement/commands.js';
import { cardFact } from './card-facts.js';
import { type CardSession, rereadInfo } from './card-session.js';
import type { FlowRecorder } from './flow-recorder.js';
import { type KeyUpdateStep, ROUTE_NAME } from './key-update-plan.js';

export interface KeyUpdateResult {
  flowId: string;
  receiver: CardSession;
  step: KeyUpdateStep;
}

export async function runKeyUpdate(
  recorder: FlowRecorder,
  step: KeyUpdateStep,
  receiver: CardSession,
  sender: CardSession,
  date: number,
  transferFlowId?: string,
): Promise<KeyUpdateResult> {
  const flowId = randomUUID();
  const record = (name: string, payload: Record<string, unknown> = {}) =>
    recorder.record(flowId, 'key-update', name, payload);
  const isPublic = step.route === KEY_ROUTE.PUBLIC_KEY;
  recorder.record(
    flowId,
    'key-update',
    'planned',
    {
      route: ROUTE_NAME[step.route],
      reason: step.reason,
      receiver: receiver.holderIdHex,
      sender: sender.holderIdHex,
      from: { transferKeyId: receiver.info.transferKeyId, updateKeyId: receiver.info.updateKeyId },
      to: step.expect,
      transferFlowId,
    },
    { cards: [cardFact(receiver), cardFact(sender)] },
  );
  // Once APPLY KEY UPDATE is on its way, only the receiver knows whether it took the new keys: an
  // interruption from then on is journaled as 'interrupted' and settled by recoverKeyUpdate(),
  // which reads the receiver's keys when the card is present again.
  let applySent = false;
  let after: CardSession;
  try {
    const random = await receiver.client.beginKeyUpdate(
      step.route,
      date,
      isPublic ? sender.info.certificate : undefined,
    );
    // Nothing journaled between 'planned' and the end: recovery needs only the plan and the keys the
    // receiver holds afterwards (docs/journal.md); the update random and the export are single-use.
    const exported = await sender.client.exportTransferKey(
      step.route,
      date,
      random,
      isPublic ? receiver.info.certificate : receiver.info.holderId,
    );
    applySent = true;
    await receiver.client.applyKeyUpdate(step.route, exported);
    // APPLY answers no key IDs (route 02 may take one part of two): the journal records what the
    // receiver holds, read back, never what the terminal expected.
    after = await rereadInfo(receiver);
  } catch (e) {
    if (isTerminalError(e, 'E_CARD_STATUS')) {
      // The card refused the command: it keeps its keys.
      record('failed-no-value-moved', { code: e.code, sw: e.details.sw, message: e.message });
    } else if (isTerminalError(e) && !applySent) {
      record('failed-no-value-moved', { code: e.code, message: e.message, interrupted: true });
    } else {
      const { code, message } = toTerminalError(e);
      record('interrupted', { code, message });
    }
    throw e;
  }
  const got = { transferKeyId: after.info.transferKeyId, updateKeyId: after.info.updateKeyId };
  if (got.transferKeyId !== step.expect.transferKeyId || got.updateKeyId !== step.expect.updateKeyId) {
    record('failed-no-value-moved', { message: 'the card did not take the expected keys', got });
    throw new TerminalError(
      'E_CARD_STATE',
      `the ${receiver.slot} card holds keys ${JSON.stringify(got)} after the update`,
      {
        expected: step.expect,
        got,
      },
    );
  }
  record('completed', got);
  return { flowId, receiver: after, step };
}

/**
 * Settles an open key-update flow (interrupted, or the terminal stopped mid-way) once its receiver
 * card is present: 'completed' if the card holds the planned keys (or newer ones, from a later
 * update), else 'failed-no-value-moved'. Either way no value moved; the payload says what the card
 * holds. Returns undefined while the receiver is absent.
 */
export async function recoverKeyUpdate(
  recorder: FlowRecorder,
  flowId: string,
  byHolder: ReadonlyMap<string, CardSession>,
): Promise<'completed' | 'failed-no-value-moved' | undefined> {
  const planned = recorder.entries(flowId).find((e) => e.step === 'planned')?.payload as
    | { receiver?: string; to?: { transferKeyId: number; updateKeyId: number } }
    | undefined;
  const present = planned?.receiver ? byHolder.get(planned.receiver) : undefined;
  if (!planned?.to || !present) {
    // A flow killed before its plan was journaled holds nothing to settle: close it as such.
    if (!planned) {
      recorder.record(flowId, 'key-update', 'failed-no-value-moved', { recovered: true, planned: false });
      return 'failed-no-value-moved';
    }
    return undefined;
  }
  const card = await rereadInfo(present);
  const got = { transferKeyId: card.info.transferKeyId, updateKeyId: card.info.updateKeyId };
  const took = got.transferKeyId >= planned.to.transferKeyId && got.updateKeyId >= planned.to.updateKeyId;
  const step = took ? 'completed' : 'failed-no-value-moved';
  recorder.record(flowId, 'key-update', step, { ...got, recovered: true });
  return step;
}
