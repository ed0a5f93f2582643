import type { Migration } from './types.js';

// The end-of-day summary reads the value transfers closed on one day. Without this index it walked
// every flow ever recorded (14 s at a million transfers, bench/RESULTS.md); with it, only that day's.
const SQL = `
CREATE INDEX flow_state_closed ON flow_state (flow_kind, updated_at) WHERE terminal = 1;
`;

export const migration003FlowClosedIndex: Migration = {
  version: 3,
  name: 'flow-closed-index',
  up(db) {
    db.exec(SQL);
  },
};
