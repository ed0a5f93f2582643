// The two operations that move keys or value between the cards — a payment, and a key update on its
// own — with their progress as the engine reports each journaled step, and their result.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ErrorInfo, ResponseOf, TransferOutcomeWire } from '../../../electron/ipc/contract.js';
import type { TerminalApi } from '../terminal-api.js';
import type { CardQueue } from './useCardQueue.js';

export type Operation = 'pay' | 'keys';

export interface ProgressFlow {
  flowId: string;
  kind: string;
  route?: string;
  steps: string[];
}

export type OperationResult =
  | { op: 'pay'; outcome: TransferOutcomeWire }
  | { op: 'keys'; updates: ResponseOf<'keys:update'>['updates'] }
  | { op: Operation; error: ErrorInfo };

export function useCardOperation(api: TerminalApi, queued: CardQueue, after: () => Promise<void>) {
  const [running, setRunning] = useState<Operation | undefined>();
  const [progress, setProgress] = useState<ProgressFlow[]>([]);
  const [result, setResult] = useState<OperationResult | undefined>();
  // Steps of flows this screen did not start (recovery on card insert) are not shown as progress.
  const runningRef = useRef(false);

  useEffect(
    () =>
      api.on('transfer-step', (e) => {
        if (!runningRef.current) return;
        setProgress((flows) => {
          const at = flows.findIndex((f) => f.flowId === e.flowId);
          const route = e.route ? { route: e.route } : {};
          if (at < 0) return [...flows, { flowId: e.flowId, kind: e.kind, ...route, steps: [e.step] }];
          return flows.map((f, i) => (i === at ? { ...f, ...route, steps: [...f.steps, e.step] } : f));
        });
      }),
    [api],
  );

  const run = useCallback(
    async (op: Operation, work: () => Promise<OperationResult>) => {
      if (runningRef.current) return;
      runningRef.current = true;
      setRunning(op);
      setProgress([]);
      setResult(undefined);
      const r = await work();
      runningRef.current = false;
      setRunning(undefined);
      setResult(r);
      await after();
    },
    [after],
  );

  const pay = useCallback(
    (amount: number) =>
      run('pay', async () => {
        const r = await queued(() => api.call('transfer:run', { amount }));
        return r.ok ? { op: 'pay', outcome: r.value } : { op: 'pay', error: r.error };
      }),
    [api, queued, run],
  );

  const updateKeys = useCallback(
    () =>
      run('keys', async () => {
        const r = await queued(() => api.call('keys:update'));
        return r.ok ? { op: 'keys', updates: r.value.updates } : { op: 'keys', error: r.error };
      }),
    [api, queued, run],
  );

  const clear = useCallback(() => {
    if (runningRef.current) return;
    setProgress([]);
    setResult(undefined);
  }, []);

  return { running, progress, result, pay, updateKeys, clear };
}
