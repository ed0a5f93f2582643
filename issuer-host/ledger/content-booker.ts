// Books the e-money of content flows (migrations 007, 008; docs/content-clearing.md), in the
// ingest's transaction, on what the cards proved (clearing/content-evidence.ts): each value half is
// one leg, an exchange's (kind exchange-leg) or a send's (kind content-send), named by its sender's
// holder ID and the half's transfer ID, which every card signature of it binds: flows of one transfer
// at several terminals (begun at one, adopted and recovered at another) are one leg. Like a value
// transfer, two-phase:
//
//   pending  sender card → the shop's value in flight   on any genuine proof of the half
//   post     in flight → receiver card                  the receiver accepted it
//   void     in flight → sender card                    the transfer rolled back or was given back
//
// The proofs are ECDSA signatures checked with the cards' certificates, which the issuer CA signed:
// no secret is needed, so they are checked whether or not the host holds the clearing key set. An
// upload with a proof no card made (over a value half's terms) or a certificate the CA did not sign
// is refused whole (E_UPLOAD_PROOF, alert clearing.proof), unless the terminal's journal set the
// proof aside as it does a damaged card answer. A proof that cannot be checked (no certificate in
// the flow, an item half's digest not journaled) backs nothing.
import type { ParsedCertificate } from '../../protocol/pki/index.js';
import {
  CONTENT_FLOW_SHAPES,
  type ContentFlowKind,
  ContentFold,
  legKey,
} from '../clearing/content-evidence.js';
import { type Booker, ChainRefusal, type IngestedEntry } from '../clearing/ingest.js';
import { heldFlowEntries } from '../db/clearing-records.js';
import { keepContentRelease, noteContentReturn } from '../db/content-release-records.js';
import type { Sql } from '../db/host-database.js';
import type { Booking } from '../db/ledger-records.js';
import { account, type BatchMemory, bookPhase, entryBooking, firstInBatch } from './ledger-booker.js';

const isContentFlow = (kind: string): kind is ContentFlowKind => Object.hasOwn(CONTENT_FLOW_SHAPES, kind);

export function contentLegBooker(ca: ParsedCertificate): Booker {
  return async (tx, context, entries) => {
    const contents = entries.filter((e) => isContentFlow(e.flowKind));
    if (contents.length === 0) return;
    const kinds = new Map(contents.map((e) => [e.flowId, e.flowKind as ContentFlowKind]));
    const folds = new Map<string, ContentFold>();
    const foldOf = (flowId: string) => {
      let f = folds.get(flowId);
      if (f === undefined) {
        f = new ContentFold(flowId, CONTENT_FLOW_SHAPES[kinds.get(flowId)!], ca);
        folds.set(flowId, f);
      }
      return f;
    };
    for (const held of await heldFlowEntries(tx, context.terminalId, entries[0]!.seq, contents)) {
      const fold = foldOf(held.flowId);
      fold.noteStep(held.seq, held.step, false);
      fold.read(held.seq, held.step, held.payload, false);
    }
    const plan: {
      entry: IngestedEntry;
      fold: ContentFold;
      bookings: ReturnType<ContentFold['backedBookings']>;
    }[] = [];
    for (const entry of contents) {
      const fold = foldOf(entry.flowId);
      fold.noteStep(entry.seq, entry.step, true);
      // A booking is made at an entry only on proofs verified by then, never at one whose own failed.
      if (fold.read(entry.seq, entry.step, entry.payload, true))
        plan.push({ entry, fold, bookings: fold.backedBookings() });
    }
    const refused = [...folds.values()]
      .flatMap((f) =>
        f.evidence.filter((e) => e.fresh && e.verdict === 'failed' && !f.setAside(e)).map((e) => ({ f, e })),
      )
      .sort((a, b) => a.e.seq - b.e.seq)[0];
    if (refused !== undefined) {
      const { f, e } = refused;
      const what = e.field.endsWith('Certificate')
        ? `a ${e.field} the issuer CA did not sign for that card`
        : `a ${e.field} that no card made: it does not verify under the signing card's certificate for the flow's terms`;
      throw new ChainRefusal(
        'E_UPLOAD_PROOF',
        `entry ${e.seq} (flow ${f.flowId}, ${e.step}) carries ${what}`,
        e.seq,
        {
          flowId: f.flowId,
          step: e.step,
          proof: e.field,
        },
      );
    }
    await keepReleaseProofs(tx, context.terminalId, folds.values());
    const batch: BatchMemory = { done: new Set(), accounts: new Map() };
    for (const { entry, fold, bookings } of plan) {
      for (const { leg, phases } of bookings) {
        const booking: Booking = {
          ...entryBooking(context, entry),
          transferKey: legKey(leg),
          kind: fold.shape.legKind,
          amount: BigInt(leg.amount),
          currency: leg.currency,
        };
        for (const phase of phases) {
          if (!(await firstInBatch(tx, batch, booking, phase))) continue;
          await bookPhase(tx, booking, phase, {
            payer: await account(tx, batch, 'card', leg.senderId, leg.currency),
            inFlight: await account(tx, batch, 'in-flight', context.shopId, leg.currency),
            payee: () => account(tx, batch, 'card', leg.receiverId, leg.currency),
            journaled: { amount: leg.amount, currency: leg.currency, senderId: leg.senderId },
          });
        }
      }
    }
  };
}

/**
 * The release proofs this upload brought that verified (served to the sender card until it takes one),
 * and the transfers it says the sender settled for good (served no more). After the refusal checks:
 * a forged proof refuses the upload, an unverifiable one is simply not kept.
 */
async function keepReleaseProofs(tx: Sql, terminalId: string, folds: Iterable<ContentFold>): Promise<void> {
  for (const fold of folds) {
    const release = fold.freshRelease();
    if (release !== undefined) await keepContentRelease(tx, release, terminalId);
    const closed = fold.senderClosed();
    if (closed !== undefined) await noteContentReturn(tx, { ...closed, terminalId, flowId: fold.flowId });
  }
}
