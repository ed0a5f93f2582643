// The replay and edited faults of the fleet tier (fleet-soak.ts): a terminal's uploads forged with
// its own key.
import { readFileSync } from 'node:fs';
import { readUploadBatch } from '../../db/journal-upload.js';
import type { SyncResult } from '../../electron/services/host-link/journal-uploader.js';
import { hostIdentity } from '../../electron/services/issuing/server-identity.js';
import { openLogReadOnly } from '../../electron/services/terminal-lock.js';
import { isTerminalError } from '../../protocol/errors.js';
import { CLEARING_UPLOAD_PATH, type UploadResponse } from '../../protocol/host-link/clearing-wire.js';
import { HostClient } from '../../protocol/host-link/host-client.js';
import { editedEntry } from '../issuer-host/clearing-fixtures.js';
import type { FleetWorld, HostInstance, TerminalSetup } from './fleet-world.js';

/**
 * A batch the host holds, sent again with the terminal's key (its key file, as a thief of the
 * terminal's disk has it): as it was (replay: duplicates, nothing booked) or with one entry's record
 * edited (refused E_UPLOAD_EDITED, an alert, nothing booked). Returns what went wrong, if anything.
 */
export async function forgedUpload(
  world: FleetWorld,
  setup: TerminalSetup,
  instance: HostInstance,
  fault: 'replay' | 'edited',
  below: (n: number) => number,
  /** The terminal's own upload until it has caught up: the host then holds its whole chain. */
  caughtUp: () => Promise<SyncResult>,
): Promise<string | 'skipped' | undefined> {
  const id = setup.terminalId;
  const synced = await caughtUp();
  if (!synced.ok || synced.ackedSeq < 2) return 'skipped';
  const reader = openLogReadOnly(setup.dataDir);
  let batch: ReturnType<typeof readUploadBatch>;
  try {
    const start = below(synced.ackedSeq - 1);
    batch = readUploadBatch(reader.db, start, Math.min(1 + below(8), synced.ackedSeq - start));
  } finally {
    reader.close();
  }
  if (!batch) return 'skipped';
  const snapshot = async () =>
    JSON.stringify(
      await world.db.query(
        `SELECT (SELECT last_seq::text FROM clearing_chains WHERE terminal_id = $1) AS chain,
                (SELECT count(*)::int FROM clearing_entries WHERE terminal_id = $1) AS entries,
                (SELECT count(*)::int FROM ledger_transfers WHERE terminal_id = $1) AS transfers,
                (SELECT count(*)::int FROM clearing_uploads WHERE terminal_id = $1) AS uploads`,
        [id],
      ),
    );
  const before = await snapshot();
  const sentAt = new Date(Date.now() - 1000);
  const client = new HostClient({
    baseUrl: instance.url,
    caCertificateDer: world.caDer,
    pins: [JSON.parse(readFileSync(setup.configPath, 'utf8')).host.pins[0]],
    terminal: { terminalId: id, privateKey: hostIdentity(setup.dataDir, id).privateKey },
    timeoutMs: 20_000,
  });
  try {
    if (fault === 'replay') {
      const r = await client.call<UploadResponse>('POST', CLEARING_UPLOAD_PATH, batch);
      if (r.accepted !== 0 || r.duplicates !== batch.entries.length)
        return `a replayed batch of ${id} was answered accepted ${r.accepted}, duplicates ${r.duplicates}`;
    } else {
      const k = below(batch.entries.length);
      batch.entries[k] = editedEntry(batch.entries[k]!, (p) => ({ ...p, tampered: true }));
      const refused = await client.call('POST', CLEARING_UPLOAD_PATH, batch).then(
        () => 'accepted',
        (e: unknown) => (isTerminalError(e) ? e.code : String(e)),
      );
      if (refused !== 'E_UPLOAD_EDITED') return `an edited batch of ${id} was answered ${refused}`;
      const alerts = await world.db.query(
        `SELECT 1 FROM audit_events WHERE kind = 'clearing.edited' AND subject = $1 AND at >= $2::timestamptz - interval '1 hour'`,
        [id, sentAt],
      );
      if (alerts.length === 0) return `no alert was raised for an edited batch of ${id}`;
    }
  } finally {
    client.close();
  }
  const after = await snapshot();
  if (after !== before) return `a ${fault} batch of ${id} changed the host: ${before} → ${after}`;
  return undefined;
}
