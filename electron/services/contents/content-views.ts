// What the content engine answers, as plain JSON data: the card-to-card session, listings, reads and
// the outcome of a transmission or exchange. The IPC contract's zod schemas describe the same shapes
// (electron/ipc/view-shapes.ts ties SessionView to the schema both ways).
import type { TerminalError } from '../../../protocol/errors.js';
import type { ListedItem } from '../../../protocol/settlement/contents-codec.js';
import type { SlotName } from '../slots/reader-slots.js';
import type { ContentRecovery } from './content-flows.js';
import type { ContentFlowKind } from './content-record.js';

export type SessionModeName = 'basic' | 'issuer';

/** What one side offers: an item on its card (hex ID), or an amount of its purse (minor units). */
export type ContentOffer = { itemId: string } | { amount: number };

/** One card's side of an authenticated card-to-card session, as plain JSON. */
export interface SessionView {
  slot: SlotName;
  holderId: string;
  peerHolderId: string;
  /** What this card required the other to prove. */
  mode: SessionModeName;
  /** Hex, 16 bytes; both cards hold the same ID, valid only for this session. */
  sessionId: string;
  /** This card's access level granted to the peer: 'issuer' when the peer is the issuer card in issuer mode. */
  level: 'basic' | 'issuer';
  peerIssuer?: string;
}

export interface AuthenticationResult {
  payer: SessionView;
  payee: SessionView;
  /** CRL warnings (stale CRL under the warn policy). */
  warnings: string[];
}

export interface AccessView {
  /** The owner's PIN is verified on this card (owner mode). */
  owner: boolean;
  /** The card-to-card session this card holds, if any. */
  session: 'none' | 'basic' | 'issuer';
  /** Contents issuer whose issuer card is authenticated in issuer mode. */
  issuer?: string;
}

export interface ContentListing {
  slot: SlotName;
  holderId: string;
  access: AccessView;
  /** Every item's public part; `body` only where the card gave it and the level allows it. */
  items: ListedItem[];
}

export interface ContentRead {
  slot: SlotName;
  itemId: string;
  /** Hex. */
  body: string;
}

export type ContentOutcome =
  | {
      status: 'completed';
      flowId: string;
      kind: ContentFlowKind;
      txIds: string[];
      /** After the flow, where the cards show them (owner or issuer access). */
      balances: Record<SlotName, number | undefined>;
      warnings: string[];
    }
  | { status: 'refused'; flowId?: string; error: TerminalError }
  | { status: 'rolled-back'; flowId: string; error: TerminalError }
  | {
      status: 'interrupted';
      flowId: string;
      error: TerminalError;
      /** What recovery with the cards then present achieved; 'waiting' leaves the flow open. */
      recovery: ContentRecovery | 'not-attempted';
    };

export interface ContentRecoveryReport {
  flowId: string;
  kind: ContentFlowKind;
  outcome: ContentRecovery;
}

/** How altering an item's body ended: the card took it, or refused (nothing changed). */
export type AlterOutcome =
  | { status: 'completed'; flowId: string }
  | { status: 'refused'; flowId?: string; error: TerminalError };
