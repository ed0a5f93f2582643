// The shop's card operations from the screen (issue, sell, send, alter, refund, unblock) and the one
// dialog they open at a time. An operation runs through the screen's card queue; when it ends the
// cards and records are read again, and a completed one with a receipt opens the receipt.
import { useCallback, useState } from 'react';
import type { ErrorInfo, Result, SlotNameWire } from '../../../electron/ipc/contract.js';
import type { OperationOutcomeWire } from '../../../electron/ipc/contract-shop.js';
import type { Receipt } from '../../../electron/ipc/documents.js';
import type { CardQueue } from '../hooks/useCardQueue.js';

export interface ShopItem {
  id: string;
  type: string;
  label: string;
  policy: string;
  body?: string;
}

export type ShopDialog =
  | { kind: 'issue' }
  | { kind: 'item'; slot: SlotNameWire; item: ShopItem }
  | { kind: 'refund' }
  | { kind: 'unblock'; slot: SlotNameWire }
  | { kind: 'receipt'; receipt: Receipt };

/** How an operation ended for its dialog: an outcome, or a refusal before it started. */
export type Ended = { outcome: OperationOutcomeWire } | { error: ErrorInfo };

export function useShopOperations(queued: CardQueue, after: () => Promise<void>) {
  const [dialog, setDialog] = useState<ShopDialog | undefined>();
  const [running, setRunning] = useState(false);

  const close = useCallback(() => setDialog(undefined), []);

  /** Runs one operation; a completed one with a receipt replaces the dialog by its receipt. */
  const run = useCallback(
    async (call: () => Promise<Result<OperationOutcomeWire>>): Promise<Ended> => {
      setRunning(true);
      const r = await queued('changes', call);
      setRunning(false);
      await after();
      if (!r.ok) return { error: r.error };
      const receipt = r.value.status === 'completed' ? r.value.receipt : undefined;
      if (receipt) setDialog({ kind: 'receipt', receipt });
      return { outcome: r.value };
    },
    [queued, after],
  );

  return { dialog, open: setDialog, close, running, run };
}

export type ShopOperations = ReturnType<typeof useShopOperations>;
