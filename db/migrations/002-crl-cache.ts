import type { Migration } from './types.js';

// Cached CRLs, at most one per issuer (the current one), and their revoked serials.
// Signature checks happen before storage (db/crl-store.ts does not verify).
//
// crl_revoked is WITHOUT ROWID with primary key (crl_id, serial_hex): the table is its own index,
// so "is this serial revoked under this issuer's current CRL" is two index seeks and a million
// serials cost no second copy of the data.
const SQL = `
CREATE TABLE crl (
  id INTEGER PRIMARY KEY,
  issuer_key_id TEXT NOT NULL,
  crl_number INTEGER NOT NULL,
  this_update TEXT NOT NULL,
  next_update TEXT NOT NULL,
  der BLOB NOT NULL,
  imported_at TEXT NOT NULL,
  etag TEXT,
  last_modified TEXT,
  source TEXT NOT NULL,
  revoked_count INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX crl_issuer ON crl (issuer_key_id);

CREATE TABLE crl_revoked (
  crl_id INTEGER NOT NULL REFERENCES crl (id) ON DELETE CASCADE,
  serial_hex TEXT NOT NULL,
  revoked_at TEXT NOT NULL,
  PRIMARY KEY (crl_id, serial_hex)
) STRICT, WITHOUT ROWID;
`;

export const migration002CrlCache: Migration = {
  version: 2,
  name: 'crl-cache',
  up(db) {
    db.exec(SQL);
  },
};
