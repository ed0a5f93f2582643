// The services' view types and the IPC contract's zod schemas describe the same data: the services
// build it (they cannot import the contract, which sits above them), the contract validates and
// types it for the renderer. These compile-time checks tie each pair exactly, both ways, down to
// nested and optional fields: a field added, removed or retyped on one side only fails the typecheck.
import type { SessionView } from '../services/contents/content-views.js';
import type { CardView } from '../services/settlement/card-view.js';
import type { CardViewWire, SessionSideWire } from './contract.js';

/** True only when A and B are the same type (the compiler's identity, not mutual assignability). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

export const VIEW_SHAPES_MATCH = {
  card: true satisfies Same<CardView, CardViewWire>,
  session: true satisfies Same<SessionView, SessionSideWire>,
} as const;
