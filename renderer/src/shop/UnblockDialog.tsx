// A blocked PIN, unblocked with the issuer's unblock code (the card holder has it from the issuer) and
// a new PIN typed twice. The card checks the code and counts its tries; a supervisor's action.
import { type FormEvent, useState } from 'react';
import type { ErrorInfo, SlotNameWire } from '../../../electron/ipc/contract.js';
import { ErrorLine } from '../components/ErrorLine.js';
import { Modal } from '../components/Modal.js';
import { PinInput } from '../components/PinInput.js';
import type { CardQueue } from '../hooks/useCardQueue.js';
import type { TerminalApi } from '../terminal-api.js';
import type { ShopOperations } from './useShopOperations.js';

const UNBLOCK_CODE = /^\d{8}$/;

export function UnblockDialog(props: {
  api: TerminalApi;
  ops: ShopOperations;
  queued: CardQueue;
  slot: SlotNameWire;
  after: () => Promise<void>;
}) {
  const { api, ops, slot } = props;
  const [code, setCode] = useState('');
  const [pin, setPin] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState<ErrorInfo | undefined>();
  const [done, setDone] = useState(false);
  const [running, setRunning] = useState(false);
  const mismatch = again.length >= 4 && pin !== again;
  const ready = UNBLOCK_CODE.test(code) && pin.length >= 4 && pin === again;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!ready || running) return;
    setRunning(true);
    const r = await props.queued('changes', () =>
      api.call('pin:unblock', { slot, unblockCode: code, newPin: pin }),
    );
    setRunning(false);
    setCode('');
    setPin('');
    setAgain('');
    setError(r.ok ? undefined : r.error);
    setDone(r.ok);
    await props.after();
  };

  return (
    <Modal id="unblock-dialog" title={`Unblock the ${slot} card’s PIN`} busy={running} onClose={ops.close}>
      {done ? (
        <>
          <p className="result good" role="status" data-testid="unblock-done">
            PIN unblocked: the card holder can log in with the new PIN.
          </p>
          <div className="row">
            <button type="button" className="primary" onClick={ops.close}>
              Done
            </button>
          </div>
        </>
      ) : (
        <form onSubmit={(e) => void submit(e)}>
          <p>
            The card holder’s unblock code comes from the card’s issuer. The card checks it and counts wrong
            tries.
          </p>
          <div className="field-grid">
            <label htmlFor="unblock-code">Unblock code</label>
            <PinInput id="unblock-code" maxLength={8} value={code} onChange={setCode} />
            <label htmlFor="unblock-new-pin">New PIN</label>
            <PinInput id="unblock-new-pin" value={pin} onChange={setPin} />
            <label htmlFor="unblock-again">New PIN again</label>
            <PinInput
              id="unblock-again"
              value={again}
              onChange={setAgain}
              invalid={mismatch}
              describedBy="unblock-hint"
            />
          </div>
          <p id="unblock-hint" className={mismatch ? 'hint error' : 'hint'}>
            {mismatch ? 'The two new PINs differ.' : 'An 8-digit unblock code; a new PIN of 4 to 12 digits.'}
          </p>
          {error && <ErrorLine error={error} testId="unblock-error" />}
          <div className="row">
            <button type="submit" className="primary" disabled={running || !ready}>
              {running ? 'Unblocking…' : 'Unblock'}
            </button>
          </div>
        </form>
      )}
    </Modal>
  );
}
