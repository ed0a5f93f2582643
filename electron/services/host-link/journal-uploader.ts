// The terminal's background upload of its journal to the issuer host (docs/issuer-host.md,
// "Clearing"; the outbox is the journal after db/upload-cursor.ts's cursor). Nothing waits for it:
// a sale appends to the journal and goes on; the uploader sends what follows the cursor in batches
// when it runs, and on failure tries again later with exponential backoff and full jitter (so a
// fleet coming back after an outage does not arrive at once). A terminal offline for a week catches
// up batch by batch when the host answers again.
//
// The host's answers steer it: an acknowledgement moves the cursor to the host's last seq and hash;
// a gap means the host holds less than the cursor says (its database restored, or another copy of
// this terminal's cursor) and the cursor moves back to the host's; an edited entry or a fork is not
// retried in a loop but reported (the host raised an alert; staff decide) and tried again only at
// the slowest pace. A card proof the host could not verify (E_UPLOAD_PROOF) makes the batches
// smaller: what precedes it is uploaded, so the next batch starts at it and reaches as far as it can
// into the journal, to where recovery set a damaged copy aside (docs/issuer-host.md, "Proofs at
// clearing"); a forged one stays refused, and the host has its alert.
import { hexToBytes } from '@noble/hashes/utils.js';
import type { DatabaseOwner } from '../../../db/connection.js';
import { readUploadBatch } from '../../../db/journal-upload.js';
import { UploadCursor, type UploadCursorState } from '../../../db/upload-cursor.js';
import { TerminalError, toTerminalError } from '../../../protocol/errors.js';
import {
  CLEARING_CURSOR_PATH,
  CLEARING_UPLOAD_PATH,
  type ClearingCursor,
  clearingCursorSchema,
  type UploadResponse,
  uploadResponseSchema,
} from '../../../protocol/host-link/clearing-wire.js';
import type { HostClient } from '../../../protocol/host-link/host-client.js';

export interface JournalUploaderOptions {
  db: DatabaseOwner;
  client: Pick<HostClient, 'call'>;
  /** Entries per upload (default 500). */
  batchSize?: number;
  /** Pause after a sync that emptied the outbox (default 30 s). */
  intervalMs?: number;
  /** First retry delay and the cap of the backoff (defaults 2 s and 10 min). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  now?: () => number;
  /** In [0, 1): the jitter's draw (tests fix it). */
  random?: () => number;
}

export interface SyncResult {
  ok: boolean;
  /** Entries the host took in this sync (not counting ones it already held). */
  uploaded: number;
  ackedSeq: number;
  waiting: number;
  error?: { code: string; message: string };
}

/** The host status the screen shows (with the CRL's age, added by the caller). */
export type UploaderStatus = UploadCursorState & { running: boolean; nextAttemptAt: number | null };

export class JournalUploader {
  private readonly cursor: UploadCursor;
  private readonly now: () => number;
  private readonly random: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = true;
  private failures = 0;
  private nextAttemptAt: number | null = null;
  private inFlight: Promise<SyncResult> | undefined;

  constructor(private readonly options: JournalUploaderOptions) {
    this.cursor = new UploadCursor(options.db);
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  status(): UploaderStatus {
    return { ...this.cursor.state(), running: this.running, nextAttemptAt: this.nextAttemptAt };
  }

  /** Uploads everything waiting, batch by batch; never throws (the result says what went wrong). */
  sync(): Promise<SyncResult> {
    // One sync at a time: a forced one joins the one running.
    this.inFlight ??= this.syncOnce().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Starts the background loop: a sync now, then after each interval or backoff. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.nextAttemptAt = null;
  }

  /** The delay before the next attempt after `failures` failures in a row: full jitter. */
  backoffMs(failures: number): number {
    const base = this.options.baseDelayMs ?? 2000;
    const cap = this.options.maxDelayMs ?? 600_000;
    const ceiling = Math.min(cap, base * 2 ** Math.min(failures - 1, 30));
    return Math.max(base / 2, Math.floor(this.random() * ceiling));
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.nextAttemptAt = this.now() + delayMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.sync().then((result) => {
        if (result.ok) {
          this.failures = 0;
          this.schedule(this.options.intervalMs ?? 30_000);
        } else {
          this.failures += 1;
          const chainRefused =
            result.error?.code === 'E_UPLOAD_EDITED' || result.error?.code === 'E_UPLOAD_FORK';
          this.schedule(chainRefused ? (this.options.maxDelayMs ?? 600_000) : this.backoffMs(this.failures));
        }
      });
    }, delayMs);
    this.timer.unref?.();
  }

  private async syncOnce(): Promise<SyncResult> {
    this.running = true;
    let uploaded = 0;
    try {
      let limit = this.options.batchSize ?? 500;
      for (let round = 0; round < 10_000; round++) {
        const { ackedSeq } = this.cursor.state();
        const batch = readUploadBatch(this.options.db, ackedSeq, limit);
        if (batch === undefined) break;
        let answer: UploadResponse;
        try {
          answer = uploadResponseSchema.parse(
            await this.options.client.call<unknown>('POST', CLEARING_UPLOAD_PATH, batch),
          );
        } catch (e) {
          const error = toTerminalError(e);
          if (error.code === 'E_UPLOAD_PROOF' && batch.entries.length > 1) {
            limit = Math.floor(batch.entries.length / 2);
            continue;
          }
          if (error.code !== 'E_UPLOAD_GAP') throw error;
          // The host holds less than the cursor says: start again from where it is.
          const held: ClearingCursor = clearingCursorSchema.parse(
            await this.options.client.call<unknown>('GET', CLEARING_CURSOR_PATH),
          );
          if (held.lastSeq >= ackedSeq) throw error;
          this.cursor.acknowledge(held.lastSeq, hexToBytes(held.hash), this.now());
          continue;
        }
        uploaded += answer.accepted;
        const lastSent = batch.entries.at(-1)!.seq;
        if (answer.lastSeq > lastSent) {
          // The host holds more of this terminal's chain than its journal has: the log was restored
          // from an older copy. Never skip the cursor past our own head (new entries would then never
          // be sent); they will be refused as a fork, which is what this is.
          this.cursor.acknowledge(lastSent, null, this.now());
          throw new TerminalError(
            'E_UPLOAD_FORK',
            `the issuer host holds this terminal's journal up to entry ${answer.lastSeq}, beyond its own head (${lastSent}): was the log restored from a copy?`,
          );
        }
        this.cursor.acknowledge(answer.lastSeq, hexToBytes(answer.hash), this.now());
        if (answer.lastSeq < lastSent) break; // the host holds less than sent: stop here
      }
      const state = this.cursor.state();
      return { ok: true, uploaded, ackedSeq: state.ackedSeq, waiting: state.waiting };
    } catch (e) {
      const error = toTerminalError(e);
      this.cursor.failed(error.code, error.message, this.now());
      const state = this.cursor.state();
      return {
        ok: false,
        uploaded,
        ackedSeq: state.ackedSeq,
        waiting: state.waiting,
        error: { code: error.code, message: error.message },
      };
    } finally {
      this.running = false;
    }
  }
}
