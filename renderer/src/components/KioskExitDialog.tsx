// The operator's exit PIN, asked in a modal dialog before the kiosk window may be left: Enter
// submits, Escape or Cancel goes back to the terminal. A wrong PIN is said plainly, with its code.
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { KIOSK_EXIT_MESSAGES } from '../error-messages.js';
import type { KioskExit } from '../hooks/useKiosk.js';
import { ErrorLine } from './ErrorLine.js';

export function KioskExitDialog(props: {
  exit: KioskExit | undefined;
  onSubmit: (pin: string) => Promise<void>;
  onCancel: () => void;
}) {
  const { exit } = props;
  const ref = useRef<HTMLDialogElement>(null);
  const [pin, setPin] = useState('');
  const open = exit !== undefined;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (pin.length < 4) return;
    await props.onSubmit(pin);
    setPin('');
  };

  return (
    <dialog
      ref={ref}
      className="kiosk-exit"
      aria-labelledby="kiosk-exit-title"
      data-testid="kiosk-exit"
      onCancel={(e) => {
        e.preventDefault();
        props.onCancel();
      }}
    >
      <h2 id="kiosk-exit-title">Leave kiosk mode</h2>
      {exit?.state === 'exiting' ? (
        <p role="status">Leaving kiosk mode…</p>
      ) : (
        <form onSubmit={(e) => void submit(e)}>
          <p>The terminal stays locked unless the operator’s exit PIN is entered.</p>
          <div className="row">
            <label htmlFor="kiosk-pin">Exit PIN</label>
            <input
              id="kiosk-pin"
              className="pin"
              type="password"
              inputMode="numeric"
              autoComplete="off"
              maxLength={12}
              value={pin}
              autoFocus
              onChange={(e) => setPin(e.target.value.replace(/\D/g, ''))}
            />
          </div>
          {exit?.error && (
            <ErrorLine error={exit.error} testId="kiosk-exit-error" context={KIOSK_EXIT_MESSAGES} />
          )}
          <div className="row">
            <button type="submit" className="primary" disabled={pin.length < 4}>
              Exit
            </button>
            <button type="button" onClick={props.onCancel}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}
