// The card holder's PIN for owner mode: digits only, submitted with Enter; cleared after each try.
import { type FormEvent, useState } from 'react';
import type { SlotNameWire } from '../../../electron/ipc/contract.js';
import { PinInput } from './PinInput.js';

export function PinForm(props: {
  slot: SlotNameWire;
  busy: boolean;
  /** As the card counts them (asked without spending one); undefined when the card does not say. */
  triesLeft?: number;
  onLogin: (slot: SlotNameWire, pin: string) => Promise<boolean>;
  onLoggedIn: () => void;
}) {
  const { slot } = props;
  const [pin, setPin] = useState('');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (pin.length < 4 || props.busy) return;
    const ok = await props.onLogin(slot, pin);
    setPin('');
    if (ok) props.onLoggedIn();
    else document.getElementById(`${slot}-pin`)?.focus();
  };
  return (
    <form className="row" onSubmit={(e) => void submit(e)}>
      <label htmlFor={`${slot}-pin`}>Owner PIN</label>
      <PinInput id={`${slot}-pin`} value={pin} onChange={setPin} />
      <button type="submit" disabled={props.busy || pin.length < 4}>
        Log in
      </button>
      {props.triesLeft !== undefined && (
        <span className="note" data-testid={`${slot}-pin-tries`}>
          {props.triesLeft === 1 ? '1 try left' : `${props.triesLeft} tries left`}
        </span>
      )}
    </form>
  );
}
