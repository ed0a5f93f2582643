// The end of day on the screen: the business day chosen (empty: today on the shop's clock), its Z
// report from the terminal, and its export as CSV or PDF, saying where the file went.
import { useCallback, useEffect, useState } from 'react';
import type { ErrorInfo, FileDeliveryWire, ResponseOf } from '../../../electron/ipc/contract.js';
import { finishDelivery } from '../shop/deliver-file.js';
import type { TerminalApi } from '../terminal-api.js';

const CLOSING_STEPS = new Set(['completed', 'rolled-back', 'refunded', 'failed-no-value-moved']);

export type ExportNote =
  | { state: 'working'; format: 'csv' | 'pdf' }
  | { state: 'done'; delivery: FileDeliveryWire }
  | { state: 'error'; error: ErrorInfo };

export function useDayReport(api: TerminalApi) {
  /** Empty: today, as the terminal's clock and the shop's time zone have it. */
  const [day, setDay] = useState('');
  const [report, setReport] = useState<ResponseOf<'day:report'> | undefined>();
  const [error, setError] = useState<ErrorInfo | undefined>();
  const [exported, setExported] = useState<ExportNote | undefined>();

  const refresh = useCallback(async () => {
    const r = await api.call('day:report', day ? { day } : {});
    if (r.ok) {
      setReport(r.value);
      setError(undefined);
    } else setError(r.error);
  }, [api, day]);

  // Read again when the link comes back, and when a flow ends (here or in another window).
  useEffect(() => {
    void refresh();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const soon = () => {
      clearTimeout(timer);
      timer = setTimeout(() => void refresh(), 300);
    };
    const offs = [
      api.onConnection((up) => {
        if (up) soon();
      }),
      api.on('transfer-step', (e) => {
        if (CLOSING_STEPS.has(e.step)) soon();
      }),
      api.on('recovered', soon),
    ];
    return () => {
      clearTimeout(timer);
      for (const off of offs) off();
    };
  }, [api, refresh]);

  const choose = useCallback((next: string) => {
    setExported(undefined);
    setDay(next);
  }, []);

  const exportAs = useCallback(
    async (format: 'csv' | 'pdf') => {
      const target = day || report?.today;
      if (!target) return;
      setExported({ state: 'working', format });
      const r = await api.call('day:export', { day: target, format });
      if (!r.ok) return setExported({ state: 'error', error: r.error });
      // The browser host hands the bytes back: the page downloads them (DayPanel says where they went).
      if (r.value.delivery === 'download') finishDelivery(r.value);
      setExported({ state: 'done', delivery: r.value });
    },
    [api, day, report],
  );

  return {
    day: day || report?.today || '',
    today: report?.today,
    report,
    error,
    exported,
    choose,
    refresh,
    exportAs,
  };
}
