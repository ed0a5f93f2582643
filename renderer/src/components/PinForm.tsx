// The card holder's PIN for owner mode: digits only, submitted with Enter; cleared as each try goes.
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
  /** A try is under way: from Enter until the card's answer and its new state have been read. */
  const [trying, setTrying] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (pin.length < 4 || props.busy || trying) return;
    const given = pin;
    // The PIN leaves the field at once: digits typed while the card answers are the next try, and
    // are never wiped when this one ends (the refusal shows before the slot is read again).
    setPin('');
    setTrying(true);
    let ok = false;
    try {
      ok = await props.onLogin(slot, given);
    } finally {
      setTrying(false);
    }
    if (ok) props.onLoggedIn();
    else document.getElementById(`${slot}-pin`)?.focus();
  };
  return (
    <form className="row" onSubmit={(e) => void submit(e)}>
      <label htmlFor={`${slot}-pin`}>Owner PIN</label>
      <PinInput id={`${slot}-pin`} value={pin} onChange={setPin} />
      <button type="submit" disabled={props.busy || trying || pin.length < 4}>
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
