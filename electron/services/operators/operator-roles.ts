// What each operator role may do at the terminal. A cashier runs the shop's day: sales, selling and
// sending items, issuing tickets and coupons, recovering what an interruption left in doubt (recovery
// only completes or returns value the protocol already fixed, it creates none). A supervisor may also
// move value back out of the shop (refunds), change the cards' keys, act on the revocation list,
// unblock a card holder's PIN, open an issuer session and close the day.
//
// A refund always needs a supervisor's PIN given for that refund alone, even when a supervisor is
// signed in: money leaves the shop, and a supervisor's session left open must not be enough for it.

export const OPERATOR_ROLES = ['cashier', 'supervisor'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

export const PERMISSIONS = [
  'sale',
  'exchange',
  'item-send',
  'issue',
  'recover',
  'refund',
  'key-update',
  'crl',
  'pin-unblock',
  'issuer-session',
  'close-day',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export interface PermissionRule {
  /** The roles whose signed-in operator may do it. */
  roles: readonly OperatorRole[];
  /** A supervisor's PIN must be given for each such action, whoever is signed in. */
  supervisorPinEachTime: boolean;
  /** What it is, for the README and for refusals. */
  description: string;
}

const BOTH = ['cashier', 'supervisor'] as const;
const SUPERVISOR = ['supervisor'] as const;

export const PERMISSION_TABLE: Readonly<Record<Permission, PermissionRule>> = {
  sale: { roles: BOTH, supervisorPinEachTime: false, description: 'take a payment (value transfer)' },
  exchange: {
    roles: BOTH,
    supervisorPinEachTime: false,
    description: 'sell or swap an item in one exchange',
  },
  'item-send': { roles: BOTH, supervisorPinEachTime: false, description: 'send a ticket or coupon' },
  issue: { roles: BOTH, supervisorPinEachTime: false, description: 'issue a ticket or coupon' },
  recover: { roles: BOTH, supervisorPinEachTime: false, description: 'recover transfers in doubt' },
  refund: { roles: SUPERVISOR, supervisorPinEachTime: true, description: 'refund a sale' },
  'key-update': { roles: SUPERVISOR, supervisorPinEachTime: false, description: "update the cards' keys" },
  crl: {
    roles: SUPERVISOR,
    supervisorPinEachTime: false,
    description: 'refresh or import the revocation list',
  },
  'pin-unblock': {
    roles: SUPERVISOR,
    supervisorPinEachTime: false,
    description: "unblock a card holder's PIN",
  },
  'issuer-session': {
    roles: SUPERVISOR,
    supervisorPinEachTime: false,
    description: 'open an issuer session',
  },
  'close-day': { roles: SUPERVISOR, supervisorPinEachTime: false, description: 'close the day (Z report)' },
};

/** True when an operator of this role, signed in, may do it without anyone else's PIN. */
export function roleMay(role: OperatorRole, permission: Permission): boolean {
  const rule = PERMISSION_TABLE[permission];
  return rule.roles.includes(role) && !rule.supervisorPinEachTime;
}

/** True when this role's PIN, given for one action, confirms it. */
export function roleConfirms(role: OperatorRole, permission: Permission): boolean {
  return role === 'supervisor' && PERMISSION_TABLE[permission].roles.includes('supervisor');
}
