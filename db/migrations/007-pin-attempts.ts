import type { Migration } from './types.js';

// The terminal's wrong-PIN counters (electron/services/operators/pin-attempts.ts), kept on disk so that
// restarting the terminal neither clears a lockout nor the wrong PINs counted towards one. A try is
// counted here before its PIN is checked, as a card counts its PIN tries: a process killed while
// checking has still spent the try.
const SQL = `
CREATE TABLE pin_attempts (
  counter TEXT PRIMARY KEY CHECK (length(counter) BETWEEN 1 AND 32),
  wrong INTEGER NOT NULL CHECK (wrong BETWEEN 0 AND 1000),
  locked_until INTEGER NOT NULL CHECK (locked_until >= 0)
) STRICT;
`;

export const migration007PinAttempts: Migration = {
  version: 7,
  name: 'pin-attempts',
  up(db) {
    db.exec(SQL);
  },
};
