// The two operations that move keys or value between the cards — a payment, and a key update on its
// own — with their progress as the engine reports each journaled step, and their result. Each run
// has its own operation ID: only the steps the terminal tags with it are this screen's progress
// (another window's payment is not), and another window's operation shows as "busy" instead.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ErrorInfo, ResponseOf, TransferOutcomeWire } from '../../../electron/ipc/contract.js';
import { newOperationId, type TerminalApi } from '../terminal-api.js';
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

/** An operation another window (or tab) started, as the terminal announced it. */
export interface ForeignOperation {
  channel: string;
}

export function useCardOperation(api: TerminalApi, queued: CardQueue, after: () => Promise<void>) {
  const [running, setRunning] = useState<Operation | undefined>();
  const [progress, setProgress] = useState<ProgressFlow[]>([]);
  const [result, setResult] = useState<OperationResult | undefined>();
  const [foreign, setForeign] = useState<ForeignOperation | undefined>();
  /** The operation ID of this screen's running operation. */
  const mine = useRef<string | undefined>(undefined);

  useEffect(() => {
    const offs = [
      api.on('transfer-step', (e) => {
        if (!mine.current || e.operationId !== mine.current) return;
        setProgress((flows) => {
          const at = flows.findIndex((f) => f.flowId === e.flowId);
          const route = e.route ? { route: e.route } : {};
          if (at < 0) return [...flows, { flowId: e.flowId, kind: e.kind, ...route, steps: [e.step] }];
          return flows.map((f, i) => (i === at ? { ...f, ...route, steps: [...f.steps, e.step] } : f));
        });
      }),
      api.on('card-operation', (e) => {
        if (e.operationId !== undefined && e.operationId === mine.current) return;
        setForeign(e.state === 'started' ? { channel: e.channel } : undefined);
      }),
      // A lost link loses the announcements too: nothing is known to run any more.
      api.onConnection(() => setForeign(undefined)),
    ];
    return () => {
      for (const off of offs) off();
    };
  }, [api]);

  const run = useCallback(
    async (op: Operation, work: (operationId: string) => Promise<OperationResult>) => {
      if (mine.current) return;
      const operationId = newOperationId();
      mine.current = operationId;
      setRunning(op);
      setProgress([]);
      setResult(undefined);
      const r = await work(operationId);
      mine.current = undefined;
      setRunning(undefined);
      setResult(r);
      await after();
    },
    [after],
  );

  const pay = useCallback(
    (amount: number) =>
      run('pay', async (operationId) => {
        const r = await queued('changes', () => api.call('transfer:run', { amount }, { operationId }));
        return r.ok ? { op: 'pay', outcome: r.value } : { op: 'pay', error: r.error };
      }),
    [api, queued, run],
  );

  const updateKeys = useCallback(
    () =>
      run('keys', async (operationId) => {
        const r = await queued('changes', () => api.call('keys:update', {}, { operationId }));
        return r.ok ? { op: 'keys', updates: r.value.updates } : { op: 'keys', error: r.error };
      }),
    [api, queued, run],
  );

  const clear = useCallback(() => {
    if (mine.current) return;
    setProgress([]);
    setResult(undefined);
  }, []);

  /**
   * A refusal goes stale when the situation changes (a card inserted or taken out, a login): it no
   * longer tells what would happen now. A result that moved value, or left it in doubt, stays.
   */
  const clearRefusal = useCallback(() => {
    if (mine.current) return;
    setResult((r) => (r && isRefusal(r) ? undefined : r));
  }, []);

  return { running, progress, result, foreign, pay, updateKeys, clear, clearRefusal };
}

export function isRefusal(r: OperationResult): boolean {
  if ('error' in r) return true;
  return 'outcome' in r && (r.outcome.status === 'refused' || r.outcome.status === 'rolled-back');
}
