// A PIN field, the same wherever a PIN is typed (a card holder's, an operator's, a supervisor's, an
// unblock code): masked, a numeric keypad, never remembered by the browser, digits only.
import type { Ref } from 'react';

export function PinInput(props: {
  id: string;
  value: string;
  onChange: (digits: string) => void;
  /** 12 for a PIN; 8 for an unblock code. */
  maxLength?: number;
  inputRef?: Ref<HTMLInputElement>;
  invalid?: boolean;
  describedBy?: string;
}) {
  return (
    <input
      id={props.id}
      ref={props.inputRef}
      className="pin"
      type="password"
      inputMode="numeric"
      autoComplete="off"
      maxLength={props.maxLength ?? 12}
      value={props.value}
      aria-invalid={props.invalid}
      aria-describedby={props.describedBy}
      onChange={(e) => props.onChange(e.target.value.replace(/\D/g, ''))}
    />
  );
}
