// What a host prints of the recovery surface's passes: one line per flow it settled or released and
// one per failure, so that no recovery and no failure of one goes unseen in a host's log.
import type { RecoveryEvent, RecoveryRun, TerminalRecovery } from './terminal-recovery.js';

export function describeRun(run: RecoveryRun): string[] {
  return [
    ...(run.adopted > 0 ? [`adopted ${run.adopted} record(s) found on the cards`] : []),
    ...run.transfers.map((r) => `transfer ${r.flowId}: ${r.outcome}`),
    ...run.contents.map((r) => `${r.kind} ${r.flowId}: ${r.outcome}`),
  ];
}

export function describeRecoveryEvent(e: RecoveryEvent): string[] {
  if (e.type === 'error') return [`recovery (${e.trigger}) failed: ${e.error.code} ${e.error.message}`];
  return describeRun(e.run).map((line) => `recovered (${e.trigger}) ${line}`);
}

/** Sends each pass's lines to `log`, failures to `warn`; returns the unsubscribe. */
export function logRecovery(
  recovery: Pick<TerminalRecovery, 'on'>,
  log: (line: string) => void,
  warn: (line: string) => void = log,
): () => void {
  return recovery.on((e) => {
    for (const line of describeRecoveryEvent(e)) (e.type === 'error' ? warn : log)(line);
  });
}
