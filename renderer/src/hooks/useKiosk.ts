// Kiosk mode (the Electron shell): whether the window is locked, and leaving it with the operator's
// exit PIN. The shell asks for the PIN (kiosk-exit-requested) when someone tries to close or leave
// the window; the screen also offers "Exit kiosk" itself. Where there is no kiosk, nothing shows.
import { useCallback, useEffect, useState } from 'react';
import type { ErrorInfo } from '../../../electron/ipc/contract.js';
import type { TerminalApi } from '../terminal-api.js';

export type KioskExit = { state: 'asking'; error?: ErrorInfo } | { state: 'exiting' };

export function useKiosk(api: TerminalApi) {
  const [active, setActive] = useState(false);
  const [exit, setExit] = useState<KioskExit | undefined>();

  useEffect(() => {
    void api.call('kiosk:status').then((r) => {
      if (r.ok) setActive(r.value.active);
    });
    return api.on('kiosk-exit-requested', () => {
      setActive(true);
      setExit((e) => e ?? { state: 'asking' });
    });
  }, [api]);

  const ask = useCallback(() => setExit({ state: 'asking' }), []);
  const cancel = useCallback(() => setExit((e) => (e?.state === 'exiting' ? e : undefined)), []);
  const submit = useCallback(
    async (pin: string) => {
      const r = await api.call('kiosk:exit', { pin });
      setExit(r.ok ? { state: 'exiting' } : { state: 'asking', error: r.error });
    },
    [api],
  );

  return { active, exit, ask, cancel, submit };
}
