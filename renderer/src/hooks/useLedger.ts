// What the terminal knows beyond the cards: open in-doubt transfers and their recovery, the CRL and
// its refresh. (The end of day is useDayReport.)
import { useCallback, useEffect, useState } from 'react';
import type {
  CrlStatusWire,
  ErrorInfo,
  InDoubtItemWire,
  OpenContentFlowWire,
  PendingDeliveryWire,
  RecoveryReportWire,
} from '../../../electron/ipc/contract.js';
import type { TerminalApi } from '../terminal-api.js';
import type { CardQueue } from './useCardQueue.js';

export type RecoveryNote =
  | { kind: 'done'; transfers: RecoveryReportWire[]; contents: number }
  | { kind: 'error'; error: ErrorInfo };

export function useLedger(api: TerminalApi, queued: CardQueue) {
  const [inDoubt, setInDoubt] = useState<InDoubtItemWire[]>([]);
  const [deliveries, setDeliveries] = useState<PendingDeliveryWire[]>([]);
  const [openContents, setOpenContents] = useState<OpenContentFlowWire[]>([]);
  const [recovery, setRecovery] = useState<RecoveryNote | undefined>();
  const [recovering, setRecovering] = useState(false);
  const [crl, setCrl] = useState<CrlStatusWire | undefined>();
  const [crlError, setCrlError] = useState<ErrorInfo | undefined>();
  const refreshLedger = useCallback(async () => {
    const [doubt, crlStatus] = await Promise.all([api.call('indoubt:list'), api.call('crl:status')]);
    if (doubt.ok) {
      setInDoubt(doubt.value.items);
      setDeliveries(doubt.value.deliveries);
      setOpenContents(doubt.value.contents);
    }
    if (crlStatus.ok) setCrl(crlStatus.value);
  }, [api]);

  useEffect(() => {
    void refreshLedger();
    const offs = [
      api.on('recovered', () => void refreshLedger()),
      api.on('recovery-run', () => void refreshLedger()),
      api.onConnection((up) => {
        if (up) void refreshLedger();
      }),
    ];
    return () => {
      for (const off of offs) off();
    };
  }, [api, refreshLedger]);

  /** Runs recovery with the cards present; true when it settled at least one transfer. */
  const recover = useCallback(async (): Promise<boolean> => {
    setRecovery(undefined);
    setRecovering(true);
    const r = await queued('changes', () => api.call('recovery:run'));
    setRecovering(false);
    setRecovery(
      r.ok
        ? { kind: 'done', transfers: r.value.transfers, contents: r.value.contents.length }
        : { kind: 'error', error: r.error },
    );
    return (
      r.ok &&
      [...r.value.transfers, ...r.value.contents].some(
        (t) => t.outcome === 'completed' || t.outcome === 'rolled-back',
      )
    );
  }, [api, queued]);

  const refreshCrl = useCallback(async () => {
    setCrlError(undefined);
    const r = await api.call('crl:refresh');
    if (r.ok) {
      setCrl(r.value);
      const last = r.value.lastRefresh;
      if (last && !last.ok && last.error) setCrlError({ ...last.error, details: {} });
    } else setCrlError(r.error);
  }, [api]);

  return {
    inDoubt,
    deliveries,
    openContents,
    recovery,
    recovering,
    recover,
    crl,
    crlError,
    refreshCrl,
    refreshLedger,
  };
}
