// The shop the terminal belongs to (name, terminal ID, time zone) and its money format, read again
// whenever the link to the terminal comes back.
import { useEffect, useState } from 'react';
import type { ResponseOf } from '../../../electron/ipc/contract.js';
import type { TerminalApi } from '../terminal-api.js';

export function useTerminalInfo(api: TerminalApi): ResponseOf<'terminal:info'> | undefined {
  const [info, setInfo] = useState<ResponseOf<'terminal:info'> | undefined>();
  useEffect(() => {
    const read = () =>
      void api.call('terminal:info').then((r) => {
        if (r.ok) setInfo(r.value);
      });
    read();
    return api.onConnection((up) => {
      if (up) read();
    });
  }, [api]);
  return info;
}
