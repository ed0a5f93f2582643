// No honest card stranded after honest recovery: from a state a hostile terminal left, both cards are
// presented to an honest terminal (power-up: no owner level), which runs the recovery of
// docs/protocol.md §4.4 and §10.3 from what the cards hold (it has no journal of flows it did not
// run); then both cards must hold only settled records, the value must all be on them, and a fresh
// honest transfer must go through both ways.
//
// The recovery, per unsettled record (the payer's record read first, §4.4):
// - an open debit is aborted, and the payee's pending credit of it cancelled with the abort proof;
// - a debited record is completed with the payee's record of the same reception random: credited
//   with RC if still pending, then acknowledged with its ACK; or refunded with its RP if released;
// - a pending credit nothing can complete (no debit of that reception random) or cancel is released
//   (RELEASE CREDIT), and its release proof delivered to the payer if the payer holds an open debit.
// This is that algorithm against the cards directly. The adversary campaign
// (test/campaign/adversary-case.ts) runs the terminal's own recovery surface instead, which must reach
// the same end: a record it leaves unsettled fails the case.
//
// The residual case of §10.3 (a debited record whose payee record was evicted while its proof was
// withheld) is named, not failed: the issuer, who holds the transfer key, settles it from the record
// the explorer kept of the evicted one, and the checks go on.

import type { SettlementState } from '../../card-sim/applets/settlement/state.js';
import { InProcessChannel } from '../../card-sim/transport/in-process-channel.js';
import { equalBytes, fromHex, toHex } from '../../protocol/bytes.js';
import { RECORD_STATUS } from '../../protocol/settlement/commands.js';
import { MAC_LABEL, transferMac } from '../../protocol/settlement/mac-input.js';
import { SettlementClient } from '../../protocol/settlement/settlement-client.js';
import type { TransactionRecord } from '../../protocol/settlement/transaction-record-codec.js';
import { SW } from '../../protocol/status-words.js';
import { BoundedCache } from './bounded-cache.js';
import { type AppletFactory, ExplorerCard, realApplet } from './explorer-card.js';
import type { ExplorerRoot } from './explorer-root.js';
import { type HonestCard, honestTransfer, refusalSw } from './honest-terminal.js';
import { short } from './invariants.js';
import {
  type ArchivedRecord,
  imageInfo,
  macTerms,
  otherSide,
  SIDES,
  type Side,
  termsOf,
  type WorldState,
} from './world-state.js';

export interface RecoveryVerdict {
  violations: string[];
  /** Residual cases met (and settled by the issuer), as sentences. */
  residual: string[];
}

async function statusOf(card: HonestCard, txRandom: Uint8Array): Promise<TransactionRecord | undefined> {
  try {
    return await card.client.transactionStatus(txRandom);
  } catch (e) {
    if (refusalSw(e) === SW.REFERENCED_DATA_NOT_FOUND) return undefined;
    throw e;
  }
}

/** The honest recovery of both cards' unsettled records (see the file comment). */
export async function recoverPair(cards: Record<Side, HonestCard>): Promise<void> {
  for (let pass = 0; pass < 2; pass++) {
    for (const side of SIDES) {
      const [x, y] = [cards[side], cards[otherSide(side)]];
      for (const r of await x.client.unsettledTransactions())
        if (r.role === 'debit') await settleDebit(x, y, r);
    }
    for (const side of SIDES) {
      const [x, y] = [cards[side], cards[otherSide(side)]];
      for (const r of await x.client.unsettledTransactions())
        if (r.role === 'credit') await settleCredit(x, y, r);
    }
  }
}

async function settleDebit(payer: HonestCard, other: HonestCard, d: TransactionRecord): Promise<void> {
  const payee = equalBytes(d.counterpartId, other.holderId) ? other : undefined;
  const rt = d.txRandom;
  if (d.status === RECORD_STATUS.DEBIT_OPEN) {
    const abortProof = await payer.client.abortDebit(rt);
    const c = payee && (await statusOf(payee, rt));
    if (c?.role === 'credit' && c.status === RECORD_STATUS.CREDIT_PENDING)
      await payee!.client.cancelCredit(rt, abortProof);
    return;
  }
  if (d.status !== RECORD_STATUS.DEBIT_DEBITED || !payee) return;
  const c = await statusOf(payee, rt);
  if (c?.role !== 'credit' || !equalBytes(c.rxRandom, d.rxRandom)) return; // peer-dependent: nothing here settles it
  if (c.status === RECORD_STATUS.CREDIT_PENDING) {
    const ack = await payee.client.credit(rt, d.proof);
    await payer.client.acknowledgeDebit(rt, ack);
  } else if (c.status === RECORD_STATUS.CREDIT_CREDITED) await payer.client.acknowledgeDebit(rt, c.proof);
  else if (c.status === RECORD_STATUS.CREDIT_RELEASED)
    await payer.client.refundDebit(rt, d.rxRandom, c.proof);
}

async function settleCredit(payee: HonestCard, other: HonestCard, c: TransactionRecord): Promise<void> {
  const payer = equalBytes(c.counterpartId, other.holderId) ? other : undefined;
  const rt = c.txRandom;
  const d = payer && (await statusOf(payer, rt));
  if (d?.role === 'debit') {
    if (d.status === RECORD_STATUS.DEBIT_OPEN) {
      await payee.client.cancelCredit(rt, await payer!.client.abortDebit(rt));
      return;
    }
    if (d.status === RECORD_STATUS.DEBIT_ABORTED) {
      await payee.client.cancelCredit(rt, d.proof);
      return;
    }
    if (d.status === RECORD_STATUS.DEBIT_DEBITED && equalBytes(d.rxRandom, c.rxRandom)) {
      await payer!.client.acknowledgeDebit(rt, await payee.client.credit(rt, d.proof));
      return;
    }
  }
  // Nothing can complete or cancel it: the payee gives it up. Its release proof returns value only to
  // a payer that debited this very reception random, which (just checked) none did.
  await payee.client.releaseCredit(rt);
}

/** Recovered pairs of cards remembered per generation (bounded-cache.ts). */
const TRANSFERS_LIMIT = 300_000;

/** Runs recovery and the honest transfers from a state, on two cards of its own. */
export class HonestRecoveryCheck {
  private readonly cards: Record<Side, ExplorerCard>;
  /**
   * Whether the honest transfers both ways went through, per pair of recovered cards, named up to
   * the randoms made during the sequence (the name of explorer states, world-state.ts
   * canonicalHash): recovery leaves many states' cards in the same form, and what an honest terminal
   * and two cards do from a form does not depend on the names of its randoms (the argument that
   * makes the explorer's deduplication sound). A remembered failure is run again, for its message.
   */
  private readonly transfersPass: BoundedCache<string, true>;
  private readonly hashCards: ((images: Record<Side, string>) => string) | undefined;

  constructor(
    readonly root: ExplorerRoot,
    readonly initialTotal: number,
    applets: Partial<Record<Side, AppletFactory>> = {},
    o: { plain?: boolean; hashCards?: (images: Record<Side, string>) => string } = {},
  ) {
    this.transfersPass = new BoundedCache(TRANSFERS_LIMIT, o.plain ?? false);
    this.hashCards = o.hashCards;
    const card = (side: Side) =>
      new ExplorerCard(root.holderIds[side], root.images[side], root.pins[side], applets[side] ?? realApplet);
    this.cards = { A: card('A'), B: card('B') };
  }

  async check(s: WorldState): Promise<RecoveryVerdict> {
    const honest = {} as Record<Side, HonestCard>;
    for (const side of SIDES) {
      this.cards[side].load(s.images[side], false);
      const client = new SettlementClient(await InProcessChannel.connect(this.cards[side].os));
      await client.select();
      honest[side] = {
        name: side,
        client,
        holderId: fromHex(this.root.holderIds[side]),
        pin: this.root.pins[side],
        puk: this.root.puks[side],
      };
    }
    const verdict: RecoveryVerdict = { violations: [], residual: [] };
    try {
      await recoverPair(honest);
      await this.settleResidual(s, honest, verdict);
      this.expectSettled('after honest recovery', verdict);
      if (verdict.violations.length > 0) return verdict;
      const recovered = this.hashCards?.({ A: this.cards.A.image, B: this.cards.B.image });
      if (recovered !== undefined && this.transfersPass.get(recovered)) return verdict;
      for (const [from, to] of [['A', 'B'] as const, ['B', 'A'] as const]) {
        try {
          await honestTransfer(honest[from], honest[to], 1, this.root.date, this.root.currency);
        } catch (e) {
          if (!this.full(from, to, e))
            verdict.violations.push(
              `after honest recovery, ${from} cannot pay ${to}: ${(e as Error).message}`,
            );
          await recoverPair(honest); // the refused transfer's open debit
        }
      }
      this.expectSettled('after an honest transfer both ways', verdict);
      if (recovered !== undefined && verdict.violations.length === 0) this.transfersPass.set(recovered, true);
    } catch (e) {
      verdict.violations.push(`honest recovery failed: ${(e as Error).message}`);
    }
    return verdict;
  }

  /** The documented residual case: the issuer settles from the evicted payee record (never reached in depth 8). */
  private async settleResidual(s: WorldState, honest: Record<Side, HonestCard>, verdict: RecoveryVerdict) {
    const key = fromHex(this.root.transferKey);
    for (const side of SIDES) {
      for (const d of await honest[side].client.unsettledTransactions()) {
        if (d.role !== 'debit' || d.status !== RECORD_STATUS.DEBIT_DEBITED) continue;
        const evicted = s.archive.find(
          (a): a is ArchivedRecord =>
            a.side === otherSide(side) && a.role === 'credit' && a.record.txRandom === toHex(d.txRandom),
        );
        const c = evicted?.record as { status: string; rxRandom: string } | undefined;
        if (
          !evicted ||
          !c ||
          c.rxRandom !== toHex(d.rxRandom) ||
          (c.status !== 'credited' && c.status !== 'released')
        )
          continue;
        const terms = macTerms(termsOf(s, evicted), c.rxRandom);
        if (c.status === 'credited')
          await honest[side].client.acknowledgeDebit(
            d.txRandom,
            transferMac(key, MAC_LABEL.CREDIT_ACKNOWLEDGEMENT, terms),
          );
        else
          await honest[side].client.refundDebit(
            d.txRandom,
            d.rxRandom,
            transferMac(key, MAC_LABEL.RELEASE_PROOF, terms),
          );
        verdict.residual.push(
          `${side}'s debit ${short(toHex(d.txRandom))}: the payee's ${c.status} record was evicted with its proof withheld; settled by the issuer`,
        );
      }
    }
  }

  private expectSettled(when: string, verdict: RecoveryVerdict): void {
    const states = this.states();
    for (const side of SIDES) {
      const open = [
        ...states[side].debitLog.filter((r) => r.status === 'open' || r.status === 'debited'),
        ...states[side].creditLog.filter((r) => r.status === 'pending'),
      ];
      for (const r of open)
        verdict.violations.push(`${when}, ${side} still holds the ${r.status} record ${short(r.txRandom)}`);
    }
    const total = states.A.balance + states.B.balance;
    if (total !== this.initialTotal)
      verdict.violations.push(`${when}, the balances add up to ${total}, not ${this.initialTotal}`);
  }

  /** A refusal that only says the payee is at its maximum or the payer empty is no stranding. */
  private full(from: Side, to: Side, e: unknown): boolean {
    const states = this.states();
    const sw = refusalSw(e);
    return (
      (sw === SW.MAXIMUM_BALANCE_EXCEEDED && states[to].balance + 1 > states[to].maxBalance) ||
      (sw === SW.INSUFFICIENT_FUNDS && states[from].balance < 1)
    );
  }

  private states(): Record<Side, SettlementState> {
    return { A: imageInfo(this.cards.A.image).card, B: imageInfo(this.cards.B.image).card };
  }
}
