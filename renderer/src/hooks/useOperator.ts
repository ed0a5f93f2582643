// Who is at the terminal, as the main process says: signed out, signed in (and until when), locked, or
// 'open' (no operators configured). Every window and tab follows the 'operator' event, so the lock the
// main process decides reaches them all at once. Keys and clicks on the screen count as activity:
// reported at most every 20 seconds, which keeps the idle lock away while someone works.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ErrorInfo } from '../../../electron/ipc/contract.js';
import type { DeskStateWire } from '../../../electron/ipc/contract-shop.js';
import type { TerminalApi } from '../terminal-api.js';

const ACTIVITY_EVERY_MS = 20_000;

export function useOperator(api: TerminalApi) {
  const [desk, setDesk] = useState<DeskStateWire | undefined>();
  const [error, setError] = useState<ErrorInfo | undefined>();
  const [busy, setBusy] = useState(false);

  const refresh = useCallback(async () => {
    const r = await api.call('operator:status');
    if (r.ok) setDesk(r.value);
  }, [api]);

  useEffect(() => {
    void refresh();
    const offs = [
      api.on('operator', (state) => {
        setDesk(state);
        setError(undefined);
      }),
      // After a reconnection the main process may have locked meanwhile.
      api.onConnection((connected) => {
        if (connected) void refresh();
      }),
    ];
    return () => {
      for (const off of offs) off();
    };
  }, [api, refresh]);

  const signedIn = desk?.state === 'signed-in';
  const lastReport = useRef(0);
  useEffect(() => {
    if (!signedIn) return;
    const report = () => {
      const now = Date.now();
      if (now - lastReport.current < ACTIVITY_EVERY_MS) return;
      lastReport.current = now;
      void api.call('operator:activity');
    };
    document.addEventListener('keydown', report, true);
    document.addEventListener('pointerdown', report, true);
    return () => {
      document.removeEventListener('keydown', report, true);
      document.removeEventListener('pointerdown', report, true);
    };
  }, [api, signedIn]);

  const signIn = useCallback(
    async (operatorId: string, pin: string): Promise<boolean> => {
      setBusy(true);
      const r = await api.call('operator:sign-in', { operatorId, pin });
      setBusy(false);
      if (!r.ok) {
        setError(r.error);
        return false;
      }
      lastReport.current = Date.now();
      setDesk(r.value);
      setError(undefined);
      return true;
    },
    [api],
  );

  const signOut = useCallback(async () => {
    const r = await api.call('operator:sign-out');
    if (r.ok) setDesk(r.value);
  }, [api]);

  const lock = useCallback(async () => {
    const r = await api.call('operator:lock');
    if (r.ok) setDesk(r.value);
  }, [api]);

  return { desk, error, busy, signIn, signOut, lock, refresh };
}
