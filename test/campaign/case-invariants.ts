// The Mondex-style properties checked after every case, once recovery has run with both cards of
// the case in their readers:
//   - no value created or lost: the sum of every card's balance is what the world started with, and
//     nothing is left in doubt (recovery finished everything it could, and it could finish all);
//   - atomic and at most once: the operation moved exactly its amount/item or nothing at all;
//   - every content item is on exactly one card;
//   - every card's memory decodes and is settled (no open records, no locked items), and key IDs
//     only move forward, within their limits;
//   - the transaction log's hash chain verifies and every flow in it is closed.
import type { SlotName } from '../../electron/services/slots/reader-slots.js';
import type { TerminalServices } from '../../electron/services/terminal-services.js';
import type { Operation } from './operations.js';
import { type CardSnapshot, totalValue, type WorldSnapshot } from './world-snapshot.js';

export interface InvariantInput {
  before: WorldSnapshot;
  after: WorldSnapshot;
  /** holderId of the card in each reader during the operation. */
  placed: Record<SlotName, string>;
  operation: Operation;
  expectedTotal: number;
  /** Every item the world issued. */
  items: ReadonlySet<string>;
  /** The terminal reported the operation completed / refused (undefined: interrupted, thrown, killed). */
  reported: 'completed' | 'refused' | undefined;
  faultFired: boolean;
  terminal: TerminalServices;
  /**
   * Check the hash chain: 'full' walks all of it (linear in the log's length: a soak does it at its
   * last case), 'incremental' only the entries since the last verify (every so many cases).
   */
  verifyChain: 'full' | 'incremental' | 'none';
}

export function checkInvariants(i: InvariantInput): string[] {
  const v: string[] = [];
  for (const bad of i.after.invalid) v.push(`card memory invalid: ${bad}`);

  const total = totalValue(i.after);
  const inDoubt = i.terminal.engine.inDoubt();
  const doubtValue = inDoubt.reduce((s, d) => s + d.amount, 0);
  if (total + doubtValue !== i.expectedTotal)
    v.push(`value: balances ${total} + in doubt ${doubtValue} != ${i.expectedTotal}`);
  else if (total !== i.expectedTotal) v.push(`recovery left ${doubtValue} in doubt with both cards present`);
  if (inDoubt.length > 0)
    v.push(`in-doubt items left after recovery: ${inDoubt.map((d) => d.flowId).join(', ')}`);
  const openContent = i.terminal.contents.openFlows();
  if (openContent.length > 0)
    v.push(`content flows left open: ${openContent.map((f) => f.flowId).join(', ')}`);
  const openFlows = i.terminal.flows.openFlows();
  if (openFlows.length > 0)
    v.push(`journal flows not closed: ${openFlows.map((f) => `${f.flowKind}:${f.lastStep}`).join(', ')}`);
  const journal = i.terminal.journal;
  const verify =
    i.verifyChain === 'full'
      ? journal.verify()
      : i.verifyChain === 'incremental'
        ? journal.verifyIncremental()
        : { ok: true };
  if (!verify.ok) v.push(`journal hash chain: ${JSON.stringify(verify)}`);

  const byId = (s: WorldSnapshot) => new Map(s.cards.map((c) => [c.holderId, c]));
  const pre = byId(i.before);
  const post = byId(i.after);

  // Items: each exactly once, nothing new, nothing lost.
  const seen = new Map<string, number>();
  for (const c of i.after.cards) for (const id of c.items) seen.set(id, (seen.get(id) ?? 0) + 1);
  for (const [id, n] of seen) {
    if (n !== 1) v.push(`item ${id.slice(0, 8)} is on ${n} cards`);
    if (!i.items.has(id)) v.push(`item ${id.slice(0, 8)} appeared from nowhere`);
  }
  for (const id of i.items) if (!seen.has(id)) v.push(`item ${id.slice(0, 8)} was lost`);

  for (const c of i.after.cards) {
    if (c.unsettled > 0) v.push(`${c.label}: ${c.unsettled} unsettled records after recovery`);
    const was = pre.get(c.holderId);
    if (was && (c.transferKeyId < was.transferKeyId || c.updateKeyId < was.updateKeyId))
      v.push(
        `${c.label}: key IDs went back (${was.transferKeyId}/${was.updateKeyId} -> ${c.transferKeyId}/${c.updateKeyId})`,
      );
    if (c.transferKeyId > c.transferKeyIdLimit) v.push(`${c.label}: transfer key ID above its limit`);
  }

  // Atomicity: the world is entirely before or entirely after the operation.
  const payer = i.placed.payer;
  const payee = i.placed.payee;
  const delta = (id: string) => (post.get(id)?.balance ?? 0) - (pre.get(id)?.balance ?? 0);
  const others = i.after.cards.filter((c) => c.holderId !== payer && c.holderId !== payee);
  for (const c of others) {
    if (delta(c.holderId) !== 0) v.push(`${c.label} was not in a reader but its balance changed`);
    if (!sameItems(pre.get(c.holderId), c)) v.push(`${c.label} was not in a reader but its items changed`);
  }
  const op = i.operation;
  const itemOn = (id: string, item: string) => post.get(id)?.items.includes(item) ?? false;
  let state: 'before' | 'after' | 'neither';
  const dp = delta(payer);
  const de = delta(payee);
  const itemsSame = sameItems(pre.get(payer), post.get(payer)) && sameItems(pre.get(payee), post.get(payee));
  switch (op.kind) {
    case 'transfer':
      state = dp === 0 && de === 0 ? 'before' : dp === -op.amount && de === op.amount ? 'after' : 'neither';
      if (!itemsSame) state = 'neither';
      break;
    case 'key-update':
      state = dp === 0 && de === 0 && itemsSame ? 'before' : 'neither';
      break;
    case 'content-send': {
      const from = i.placed[op.from];
      const to = op.from === 'payer' ? payee : payer;
      if (dp !== 0 || de !== 0) state = 'neither';
      else if (itemOn(from, op.itemId) && !itemOn(to, op.itemId) && itemsSame) state = 'before';
      else if (itemOn(to, op.itemId) && !itemOn(from, op.itemId)) state = 'after';
      else state = 'neither';
      break;
    }
    case 'emoney-send': {
      const [out, into] = op.from === 'payer' ? [dp, de] : [de, dp];
      state =
        out === 0 && into === 0 ? 'before' : out === -op.amount && into === op.amount ? 'after' : 'neither';
      if (!itemsSame) state = 'neither';
      break;
    }
    case 'content-exchange': {
      const paid = dp === -op.amount && de === op.amount;
      const unpaid = dp === 0 && de === 0;
      const moved = itemOn(payer, op.itemId) && !itemOn(payee, op.itemId);
      const stayed = itemOn(payee, op.itemId) && !itemOn(payer, op.itemId) && itemsSame;
      state = unpaid && stayed ? 'before' : paid && moved ? 'after' : 'neither';
      break;
    }
  }
  if (state === 'neither')
    v.push(
      `${op.kind} is neither entirely done nor undone: payer ${dp}, payee ${de}, items changed ${!itemsSame}`,
    );
  if (i.reported === 'completed' && op.kind !== 'key-update' && state !== 'after')
    v.push(`${op.kind} reported completed but the cards show ${state}`);
  if (i.reported === 'refused' && !i.faultFired && state !== 'before')
    v.push(`${op.kind} reported refused but the cards show ${state}`);
  return v;
}

function sameItems(a: CardSnapshot | undefined, b: CardSnapshot | undefined): boolean {
  return (a?.items ?? []).join() === (b?.items ?? []).join();
}
