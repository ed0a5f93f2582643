import type { Migration } from './types.js';

// Two indexes of the log's search (db/flow-search.ts), so that a page of results reads a page's worth
// of rows whatever the size of the log:
// flow_refunds   the refunds' flow numbers, for the word "refund": refunds newest first (flow_refund_of
//                is ordered by the sale a refund names, not by flow number).
// item_label     the words of each item's label (full text, FTS5, contentless: it holds only the
//                index): rowid = flow_no * 16 + position, so its rowid order is the flows' order and a
//                search reads the newest matches first. flow_item is written once (never updated or
//                deleted), so one trigger on insert keeps it whole; the items already there are added.
const SQL = `
CREATE INDEX flow_refunds ON flow (flow_no) WHERE refund_of IS NOT NULL;

CREATE VIRTUAL TABLE item_label USING fts5(
  label, content = '', tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO item_label (rowid, label) SELECT flow_no * 16 + position, label FROM flow_item;

CREATE TRIGGER flow_item_label AFTER INSERT ON flow_item
BEGIN INSERT INTO item_label (rowid, label) VALUES (NEW.flow_no * 16 + NEW.position, NEW.label); END;
`;

export const migration005SearchIndexes: Migration = {
  version: 5,
  name: 'search-indexes',
  up(db) {
    db.exec(SQL);
  },
};
