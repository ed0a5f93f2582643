// The screen before anything else: an operator signs in with their ID and PIN. Locked (the idle time
// ran out, or Lock was pressed), it says who was signed in and takes their PIN again, or another
// operator's. Nothing of the cards or the records is on the page until someone signs in.
import { type FormEvent, useEffect, useRef, useState } from 'react';
import type { ErrorInfo } from '../../../electron/ipc/contract.js';
import type { DeskStateWire } from '../../../electron/ipc/contract-shop.js';
import { OPERATOR_PIN_MESSAGES } from '../role-messages.js';
import { ErrorLine } from './ErrorLine.js';
import { PinInput } from './PinInput.js';

export function SignInScreen(props: {
  desk: Extract<DeskStateWire, { state: 'signed-out' | 'locked' }>;
  error: ErrorInfo | undefined;
  busy: boolean;
  onSignIn: (operatorId: string, pin: string) => Promise<boolean>;
}) {
  const { desk } = props;
  const locked = desk.state === 'locked' ? desk.operator : undefined;
  const [operatorId, setOperatorId] = useState(locked?.id ?? '');
  const [pin, setPin] = useState('');
  const pinRef = useRef<HTMLInputElement>(null);
  const idRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    (locked ? pinRef : idRef).current?.focus();
  }, [locked]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!operatorId || pin.length < 4 || props.busy) return;
    const ok = await props.onSignIn(operatorId.trim(), pin);
    setPin('');
    if (!ok) pinRef.current?.focus();
  };

  return (
    <main className="sign-in" aria-labelledby="sign-in-title" data-testid="sign-in">
      <form className="panel sign-in-panel" onSubmit={(e) => void submit(e)}>
        <h2 id="sign-in-title">{locked ? 'Screen locked' : 'Operator sign-in'}</h2>
        {locked ? (
          <p data-testid="locked-by">
            {locked.name} ({locked.id}) was signed in. Enter the PIN to go on, or sign in as another operator.
          </p>
        ) : (
          <p>Sign in with your operator ID and PIN to work at this terminal.</p>
        )}
        <div className="field-grid">
          <label htmlFor="operator-id">Operator ID</label>
          <input
            id="operator-id"
            ref={idRef}
            autoComplete="off"
            spellCheck={false}
            maxLength={32}
            value={operatorId}
            onChange={(e) => setOperatorId(e.target.value)}
          />
          <label htmlFor="operator-pin">PIN</label>
          <PinInput id="operator-pin" inputRef={pinRef} value={pin} onChange={setPin} />
        </div>
        {props.error && (
          <ErrorLine error={props.error} testId="sign-in-error" context={OPERATOR_PIN_MESSAGES} />
        )}
        <div className="row">
          <button type="submit" className="primary" disabled={props.busy || !operatorId || pin.length < 4}>
            {props.busy ? 'Checking…' : 'Sign in'}
          </button>
        </div>
      </form>
    </main>
  );
}
