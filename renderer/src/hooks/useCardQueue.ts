// The engine runs one card operation at a time and answers E_BUSY to a second one. The screen queues
// its own card work instead, and waits out E_BUSY from work it did not start (recovery on card
// insert): a call refused as busy ran nothing, so running it again is safe.
import { useCallback, useRef } from 'react';
import type { Result } from '../../../electron/ipc/contract.js';

const BUSY_RETRIES = 40;
const BUSY_WAIT_MS = 150;

export type CardQueue = <T>(work: () => Promise<Result<T>>) => Promise<Result<T>>;

export function useCardQueue(): CardQueue {
  const tail = useRef<Promise<unknown>>(Promise.resolve());
  return useCallback(<T>(work: () => Promise<Result<T>>): Promise<Result<T>> => {
    const patient = async (): Promise<Result<T>> => {
      for (let attempt = 0; ; attempt++) {
        const r = await work();
        if (r.ok || r.error.code !== 'E_BUSY' || attempt >= BUSY_RETRIES) return r;
        await new Promise((resolve) => setTimeout(resolve, BUSY_WAIT_MS));
      }
    };
    const run = tail.current.then(patient, patient);
    tail.current = run.catch(() => undefined);
    return run;
  }, []);
}
