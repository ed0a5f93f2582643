// The main process runs one card operation at a time, for every window, and answers E_BUSY to any
// other. The screen queues its own card work, and waits out E_BUSY only where that is safe: a refused
// call ran nothing, so a read is simply asked again, and so is a change refused while another screen
// was only reading. A change refused while another operation was changing the cards (a payment in
// another tab) is never repeated: that would be a second payment. The operator sees the refusal.
import { useCallback, useRef } from 'react';
import type { Result } from '../../../electron/ipc/contract.js';

const BUSY_RETRIES = 40;
const BUSY_WAIT_MS = 150;

export type CardAccessKind = 'reads' | 'changes';
export type CardQueue = <T>(access: CardAccessKind, work: () => Promise<Result<T>>) => Promise<Result<T>>;

/** Whether a call refused as busy may be asked again. */
export function retriesBusy(
  access: CardAccessKind,
  error: { code: string; details: Record<string, unknown> },
): boolean {
  if (error.code !== 'E_BUSY') return false;
  return access === 'reads' || error.details.changes === false;
}

export function useCardQueue(): CardQueue {
  const tail = useRef<Promise<unknown>>(Promise.resolve());
  return useCallback(<T>(access: CardAccessKind, work: () => Promise<Result<T>>): Promise<Result<T>> => {
    const patient = async (): Promise<Result<T>> => {
      for (let attempt = 0; ; attempt++) {
        const r = await work();
        if (r.ok || !retriesBusy(access, r.error) || attempt >= BUSY_RETRIES) return r;
        await new Promise((resolve) => setTimeout(resolve, BUSY_WAIT_MS));
      }
    };
    const run = tail.current.then(patient, patient);
    tail.current = run.catch(() => undefined);
    return run;
  }, []);
}
