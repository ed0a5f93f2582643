// Who may call what. Every route declares its access in `config.access` (a route without one makes
// the server refuse to start): public (the CRL only), a signed terminal request, or a staff token
// whose role holds a permission. The table below is the only place roles meet permissions.
import type { StaffRole } from '../db/staff-tokens.js';

export const PERMISSIONS = {
  /** Register shops and terminals, revoke terminals. */
  'terminals:manage': ['issuer-admin'],
  'terminals:read': ['issuer-admin', 'auditor'],
  'crl:publish': ['issuer-admin', 'crl-publisher'],
  'audit:read': ['issuer-admin', 'auditor'],
  /** The command-generating server's allow-list. */
  'authority:manage': ['issuer-admin'],
  /** Its registrations and authorizations log. */
  'authority:read': ['issuer-admin', 'auditor'],
  /** The terminals' uploaded chains and the alerts of refused uploads. */
  'clearing:read': ['issuer-admin', 'auditor'],
  /** The ledger: balances, transfers, exceptions, reports. */
  'ledger:read': ['issuer-admin', 'auditor'],
  /** Refund cases: list them; open the due ones and settle them (booking the refund). */
  'refunds:read': ['issuer-admin', 'auditor'],
  'refunds:manage': ['issuer-admin'],
  /** Record a card's issuance: value the issuer created enters the ledger. */
  'ledger:issue': ['issuer-admin'],
} as const satisfies Record<string, readonly StaffRole[]>;

export type Permission = keyof typeof PERMISSIONS;

export type RouteAccess =
  | { kind: 'public' }
  | { kind: 'terminal' }
  | { kind: 'staff'; permission: Permission };

/** Who sent an authenticated request. */
export type Principal =
  | { kind: 'terminal'; terminalId: string; shopId: string; publicKey: Uint8Array }
  | { kind: 'staff'; tokenId: string; role: StaffRole };

export function roleMay(role: StaffRole, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly StaffRole[]).includes(role);
}

/** The audit log's name for a principal. */
export function actorOf(principal: Principal): string {
  return principal.kind === 'terminal' ? `terminal:${principal.terminalId}` : `staff:${principal.tokenId}`;
}

/** Request bodies a route accepts; the body is read as bytes and decoded only after authentication. */
export type BodyKind = 'json' | 'crl';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
    body?: BodyKind;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}
