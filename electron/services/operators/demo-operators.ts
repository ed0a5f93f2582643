// The demo shop's operators: a cashier and a supervisor, with PINs everyone may know (they are in the
// README). Hashed when the demo is made, like any configuration's.
import type { OperatorEntry } from './operator-config.js';
import { hashPin, type ScryptCost } from './pin-hash.js';

export const DEMO_OPERATOR_PINS = { cashier: '1111', supervisor: '9999' } as const;

/** The `operators` section of the demo terminal's configuration. */
export function demoOperators(cost?: ScryptCost): OperatorEntry[] {
  return [
    {
      id: 'casey',
      name: 'Casey',
      role: 'cashier',
      pinHash: hashPin(DEMO_OPERATOR_PINS.cashier, 'the demo cashier PIN', cost),
    },
    {
      id: 'sam',
      name: 'Sam',
      role: 'supervisor',
      pinHash: hashPin(DEMO_OPERATOR_PINS.supervisor, 'the demo supervisor PIN', cost),
    },
  ];
}
