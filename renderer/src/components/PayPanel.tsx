// The payment: an amount in the terminal's currency (Enter pays, Escape clears), the step-by-step
// progress of the key update and the transfer, and the result. "Update keys" brings the two cards'
// transfer keys in line on its own, showing the route the engine chose and why.
import { type FormEvent, type ReactNode, type RefObject, useEffect, useState } from 'react';
import type { MoneyFormatWire } from '../../../electron/ipc/contract.js';
import type { Receipt } from '../../../electron/ipc/documents.js';
import { MAX_AMOUNT } from '../../../protocol/amount.js';
import { type AmountProblem, formatMoney, readAmount } from '../../../protocol/money-format.js';
import { amountExample, amountPlaceholder } from '../amount-hint.js';
import type {
  ForeignOperation,
  Operation,
  ProgressFlow,
  OperationResult as Result,
} from '../hooks/useCardOperation.js';
import { OperationResult } from './OperationResult.js';
import { ProgressList } from './ProgressList.js';

export function PayPanel(props: {
  money: MoneyFormatWire;
  running: Operation | undefined;
  /** An operation another window started: this one waits for it. */
  foreign: ForeignOperation | undefined;
  /** False while the link to the terminal is down: nothing can be paid. */
  connected: boolean;
  progress: ProgressFlow[];
  result: Result | undefined;
  amountRef: RefObject<HTMLInputElement | null>;
  onPay: (amount: number) => Promise<void>;
  onUpdateKeys: () => Promise<void>;
  onClear: () => void;
  /** Opens a completed payment's receipt. */
  onReceipt?: (receipt: Receipt) => void;
  /** The shop's other operations, under the payment. */
  tools?: ReactNode;
}) {
  const { money, result, running, foreign, connected } = props;
  const [text, setText] = useState('');
  const reading = readAmount(text, money);
  const amount = reading.ok ? reading.minor : undefined;
  const problem = reading.ok || reading.problem === 'empty' ? undefined : reading.problem;
  const invalid = problem !== undefined;
  const blocked = running !== undefined || foreign !== undefined || !connected;

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
    if (amount && !blocked) void props.onPay(amount);
  };
  return (
    <section className="panel pay" aria-labelledby="pay-title" data-testid="pay-panel">
      <div className="panel-head">
        <h2 id="pay-title">Payment</h2>
        <button
          type="button"
          className="small"
          disabled={blocked}
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
        <button type="submit" className="primary" disabled={blocked || !amount}>
          {running === 'pay' ? 'Paying…' : 'Pay'}
        </button>
        <p id="amount-help" className={invalid ? 'hint error' : 'hint'}>
          {problem
            ? amountProblemText(problem, money)
            : amount
              ? `Enter pays ${formatMoney(amount, money)} from the payer card to the payee card.`
              : 'Type the amount, Enter to pay, Esc to clear.'}
        </p>
      </form>
      {!connected && (
        <p className="hint error" role="status" data-testid="pay-blocked">
          Not connected to the terminal: paying waits until the connection is back.
        </p>
      )}
      {connected && foreign && !running && (
        <p className="hint" role="status" data-testid="pay-blocked">
          Busy: another operation is running ({FOREIGN_TEXT[foreign.channel] ?? foreign.channel}, from another
          window). Pay when it has finished.
        </p>
      )}
      {props.tools}
      <ProgressList flows={props.progress} />
      <OperationResult result={result} money={money} onReceipt={props.onReceipt} />
    </section>
  );
}

const FOREIGN_TEXT: Readonly<Record<string, string>> = {
  'transfer:run': 'a payment',
  'keys:update': 'a key update',
  'recovery:run': 'a recovery',
  'session:login': 'a PIN login',
  'session:logout': 'a logout',
  'session:authenticate': 'a card-to-card session',
};

function amountProblemText(problem: AmountProblem, money: MoneyFormatWire): string {
  switch (problem) {
    case 'too-large':
      return `Too large: a card moves at most ${formatMoney(MAX_AMOUNT, money)} at a time.`;
    case 'zero':
      return 'The amount must be more than zero.';
    case 'decimals':
      return `Too many decimals: at most ${money.minorUnits}, e.g. ${amountExample(money)}.`;
    default:
      return `Not an amount: digits, with at most ${money.minorUnits} decimals, e.g. ${amountExample(money)} or ${formatMoney(100_000, money)}.`;
  }
}
