// The refund-case scan on a schedule (docs/issuer-host.md, "Refund cases"): every host instance runs
// it every `intervalMs`; the scan's advisory lock lets one instance scan at a time (the others skip
// that tick), and refund_cases' unique transfer key makes a second case impossible anyway. A scan
// that fails is logged and tried again at the next tick: the host never stops for it. Ticks never
// overlap (the next is set when one ends); stop() clears the timer and waits for a running scan.
import { errorMessage } from '../../protocol/errors.js';
import type { HostDatabase } from '../db/host-database.js';
import { openDueCases } from './refund-cases.js';

export const DEFAULT_REFUND_SCAN_INTERVAL_MS = 10 * 60 * 1000;

export interface RefundScanLog {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface RefundScanSchedule {
  /** Runs one scan now (the timer's own work); resolves when it ended, never rejects. */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

export function scheduleRefundScan(o: {
  db: HostDatabase;
  intervalMs: number;
  ageMs: number;
  now: () => number;
  log: RefundScanLog;
}): RefundScanSchedule {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const scan = async () => {
    try {
      const opened = await openDueCases(o.db, { now: new Date(o.now()), ageMs: o.ageMs, wait: false });
      if (opened) o.log.info({ opened }, 'refund-case scan opened cases');
    } catch (e) {
      o.log.error(
        { err: e, code: (e as { code?: unknown }).code },
        `refund-case scan failed: ${errorMessage(e)}`,
      );
    }
  };
  const tick = (): Promise<void> => {
    if (running) return running;
    running = scan().finally(() => {
      running = undefined;
      arm();
    });
    return running;
  };
  const arm = () => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => void tick(), o.intervalMs);
    // The server's sockets keep the process alive, not this timer.
    timer.unref();
  };
  arm();
  return {
    tick,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
