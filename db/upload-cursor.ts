// The upload outbox's cursor (migration 006): how far the issuer host has acknowledged this
// terminal's journal, and how the last attempt went. The outbox is the journal's entries after it
// (db/journal-upload.ts reads them); only the uploader (electron/services/host-link/) writes here.
import type Database from 'better-sqlite3';
import type { DatabaseOwner } from './connection.js';
import { entriesAfter } from './journal-upload.js';

export interface UploadCursorState {
  /** The last seq the host acknowledged (0: none). */
  ackedSeq: number;
  ackedHash: Uint8Array | null;
  /** When the host last acknowledged an upload (Unix ms). */
  ackedAt: number | null;
  lastAttemptAt: number | null;
  lastError: { code: string; message: string } | null;
  /** Entries after ackedSeq: what waits to be uploaded. */
  waiting: number;
}

export class UploadCursor {
  private readonly db: Database.Database;

  constructor(private readonly owner: DatabaseOwner) {
    this.db = owner.handle;
  }

  state(): UploadCursorState {
    const row = this.db
      .prepare(
        'SELECT acked_seq, acked_hash, acked_at, last_attempt_at, last_error_code, last_error_message FROM upload_cursor WHERE id = 1',
      )
      .get() as {
      acked_seq: number;
      acked_hash: Uint8Array | null;
      acked_at: number | null;
      last_attempt_at: number | null;
      last_error_code: string | null;
      last_error_message: string | null;
    };
    return {
      ackedSeq: row.acked_seq,
      ackedHash: row.acked_hash,
      ackedAt: row.acked_at,
      lastAttemptAt: row.last_attempt_at,
      lastError:
        row.last_error_code === null
          ? null
          : { code: row.last_error_code, message: row.last_error_message ?? '' },
      waiting: entriesAfter(this.owner, row.acked_seq),
    };
  }

  /** The host holds the chain up to `seq` with this hash (an upload's answer, or its cursor; null: not known). */
  acknowledge(seq: number, hash: Uint8Array | null, at: number): void {
    this.db
      .prepare(
        `UPDATE upload_cursor SET acked_seq = ?, acked_hash = ?, acked_at = ?, last_attempt_at = ?,
           last_error_code = NULL, last_error_message = NULL WHERE id = 1`,
      )
      .run(seq, hash, at, at);
  }

  failed(code: string, message: string, at: number): void {
    this.db
      .prepare(
        'UPDATE upload_cursor SET last_attempt_at = ?, last_error_code = ?, last_error_message = ? WHERE id = 1',
      )
      .run(at, code.slice(0, 64), message.slice(0, 500));
  }
}
