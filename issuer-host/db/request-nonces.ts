// Replay protection of signed terminal requests (table request_nonces). A nonce is claimed once per
// terminal; the primary key makes a second claim fail in whichever host instance it arrives. A nonce
// need only be kept while a request with its timestamp could still be accepted; each claim prunes
// the terminal's nonces older than `pruneBefore` in the same statement, so the table stays bounded
// with no timer and no state in the host process.
import type { Sql } from './host-database.js';

export const NONCE_LENGTH = 16;

export class RequestNonces {
  constructor(private readonly db: Sql) {}

  /**
   * Claims `nonce` for the terminal; false when it was already claimed (a replay). `pruneBefore`
   * must be older than any timestamp still acceptable, with room for clock differences between
   * host instances (the server passes now − 2 × window).
   */
  async claim(input: {
    terminalId: string;
    nonce: Uint8Array;
    requestAt: Date;
    pruneBefore: Date;
  }): Promise<boolean> {
    const rows = await this.db.query(
      `WITH pruned AS (
         DELETE FROM request_nonces WHERE terminal_id = $1 AND request_at < $4
       )
       INSERT INTO request_nonces (terminal_id, nonce, request_at) VALUES ($1, $2, $3)
       ON CONFLICT (terminal_id, nonce) DO NOTHING
       RETURNING 1 AS claimed`,
      [input.terminalId, input.nonce, input.requestAt, input.pruneBefore],
    );
    return rows.length === 1;
  }
}
