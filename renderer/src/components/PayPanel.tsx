// The payment: an amount in the terminal's currency (Enter pays, Escape clears), the step-by-step
// progress of the key update and the transfer, and the result. "Update keys" brings the two cards'
// transfer keys in line on its own, showing the route the engine chose and why.
import { type FormEvent, type RefObject, useEffect, useState } from 'react';
import type { MoneyFormatWire } from '../../../electron/ipc/contract.js';
import { formatMoney, parseMoney } from '../../../protocol/money-format.js';
import { amountExample, amountPlaceholder } from '../amount-hint.js';
import type { Operation, ProgressFlow, OperationResult as Result } from '../hooks/useCardOperation.js';
import { OperationResult } from './OperationResult.js';
import { ProgressList } from './ProgressList.js';

export function PayPanel(props: {
  money: MoneyFormatWire;
  running: Operation | undefined;
  progress: ProgressFlow[];
  result: Result | undefined;
  amountRef: RefObject<HTMLInputElement | null>;
  onPay: (amount: number) => Promise<void>;
  onUpdateKeys: () => Promise<void>;
  onClear: () => void;
}) {
  const { money, result, running } = props;
  const [text, setText] = useState('');
  const amount = parseMoney(text, money);
  const invalid = text.trim() !== '' && (amount === undefined || amount === 0);

  // A payment that moved value (or may have) clears the amount: Enter pressed again must not pay
  // twice. A refusal keeps it for correction.
  useEffect(() => {
    if (result && 'outcome' in result && ['completed', 'interrupted'].includes(result.outcome.status))
      setText('');
  }, [result]);

  // Escape anywhere: back to a fresh sale (amount cleared and focused), unless an operation runs.
  const { amountRef, onClear } = props;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      // Escape in a dialog (the kiosk exit PIN) closes that dialog only.
      if (e.key !== 'Escape' || running || (e.target as Element | null)?.closest?.('dialog')) return;
      setText('');
      onClear();
      amountRef.current?.focus();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [running, onClear, amountRef]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (amount && !running) void props.onPay(amount);
  };
  return (
    <section className="panel pay" aria-labelledby="pay-title" data-testid="pay-panel">
      <div className="panel-head">
        <h2 id="pay-title">Payment</h2>
        <button
          type="button"
          className="small"
          disabled={running !== undefined}
          onClick={() => void props.onUpdateKeys()}
          title="Brings both cards to the same transfer key (a payment does this first by itself)"
        >
          {running === 'keys' ? 'Updating keys…' : 'Update keys'}
        </button>
      </div>
      <form onSubmit={submit} className="payform">
        <label htmlFor="amount">Amount ({money.currencyCode})</label>
        <input
          id="amount"
          ref={props.amountRef}
          inputMode="decimal"
          autoComplete="off"
          maxLength={16}
          value={text}
          placeholder={amountPlaceholder(money)}
          aria-invalid={invalid}
          aria-describedby="amount-help"
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit" className="primary" disabled={running !== undefined || !amount}>
          {running === 'pay' ? 'Paying…' : 'Pay'}
        </button>
        <p id="amount-help" className={invalid ? 'hint error' : 'hint'}>
          {invalid
            ? `Not an amount: digits with at most ${money.minorUnits} decimals, e.g. ${amountExample(money)}.`
            : amount
              ? `Enter pays ${formatMoney(amount, money)} from the payer card to the payee card.`
              : 'Type the amount, Enter to pay, Esc to clear.'}
        </p>
      </form>
      <ProgressList flows={props.progress} />
      <OperationResult result={result} money={money} />
    </section>
  );
}
