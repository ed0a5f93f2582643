// The terminal's link to the issuer host, for the screen: when the journal was last uploaded, how
// many entries wait, the last error, the CRL's age. Read now and every 15 seconds (the upload runs in
// the background in the main process; nothing here waits for the host).
import { useEffect, useState } from 'react';
import type { HostStatusWire } from '../../../electron/ipc/contract.js';
import type { TerminalApi } from '../terminal-api.js';

export const HOST_STATUS_POLL_MS = 15_000;

export function useHostStatus(api: TerminalApi): HostStatusWire | undefined {
  const [status, setStatus] = useState<HostStatusWire | undefined>();
  useEffect(() => {
    let live = true;
    const read = async () => {
      const r = await api.call('host:status');
      if (live && r.ok) setStatus(r.value);
    };
    void read();
    const timer = setInterval(() => void read(), HOST_STATUS_POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [api]);
  return status;
}
