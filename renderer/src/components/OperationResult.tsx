// The end of a payment or a key update, in one sentence first, then what the operator needs next.
import type { MoneyFormatWire, ResponseOf } from '../../../electron/ipc/contract.js';
import type { Receipt } from '../../../electron/ipc/documents.js';
import { formatMoney } from '../../../protocol/money-format.js';
import { maybeMoney } from '../format.js';
import type { OperationResult as Result } from '../hooks/useCardOperation.js';
import { ErrorLine } from './ErrorLine.js';

type KeyUpdate = ResponseOf<'keys:update'>['updates'][number];

function KeyUpdateLine({ k }: { k: KeyUpdate }) {
  return (
    <p className="key-update" data-testid="key-update">
      Key update on the {k.receiver} card, <strong>{k.route} route</strong>: {k.reason}
    </p>
  );
}

export function OperationResult({
  result,
  money,
  onReceipt,
}: {
  result: Result | undefined;
  money: MoneyFormatWire;
  onReceipt?: (receipt: Receipt) => void;
}) {
  return (
    <div data-testid="pay-result" role="status" aria-live="polite">
      {result && 'error' in result && (
        <div className="result bad">
          <strong>
            {result.error.code === 'E_DISCONNECTED'
              ? `${result.op === 'pay' ? 'Payment' : 'Key update'}: outcome unknown, the connection to the terminal was lost`
              : result.op === 'pay'
                ? 'Payment not started'
                : 'Key update not done'}
          </strong>
          <ErrorLine error={result.error} testId="pay-error" />
        </div>
      )}
      {result && 'updates' in result && (
        <div className="result good" data-testid="keys-result">
          <strong>
            {result.updates.length === 0
              ? 'Keys already in line: no update needed.'
              : `Keys updated (${result.updates.length} step${result.updates.length > 1 ? 's' : ''}).`}
          </strong>
          {result.updates.map((k) => (
            <KeyUpdateLine key={k.flowId} k={k} />
          ))}
        </div>
      )}
      {result && 'outcome' in result && result.outcome.status === 'completed' && (
        <div className="result good">
          <strong>Payment complete: {formatMoney(result.outcome.amount, money)}</strong>
          {result.outcome.keyUpdates.map((k) => (
            <KeyUpdateLine key={k.flowId} k={k} />
          ))}
          <p>
            Payer now {maybeMoney(result.outcome.balances.payer, money)}, payee{' '}
            {maybeMoney(result.outcome.balances.payee, money)}.
          </p>
          {result.outcome.warnings.map((w) => (
            <p key={w}>Warning: {w}</p>
          ))}
          {result.outcome.receipt && onReceipt && (
            <button
              type="button"
              className="small"
              onClick={() =>
                result.outcome.status === 'completed' &&
                result.outcome.receipt &&
                onReceipt(result.outcome.receipt)
              }
            >
              Receipt…
            </button>
          )}
        </div>
      )}
      {result && 'outcome' in result && result.outcome.status !== 'completed' && (
        <div className="result bad">
          <strong>{headline(result.outcome)}</strong>
          {result.outcome.keyUpdates.map((k) => (
            <KeyUpdateLine key={k.flowId} k={k} />
          ))}
          <ErrorLine error={result.outcome.error} testId="pay-error" />
        </div>
      )}
    </div>
  );
}

function headline(o: Exclude<ResponseOf<'transfer:run'>, { status: 'completed' }>): string {
  if (o.status === 'refused') return 'Payment refused: no value moved';
  if (o.status === 'rolled-back') return 'Payment cancelled: no value moved';
  if (o.inDoubt) return 'Payment interrupted: value in doubt — re-insert the cards and recover';
  if (o.recovery === 'completed') return 'Payment interrupted, then completed by recovery';
  if (o.recovery === 'rolled-back') return 'Payment interrupted: cancelled by recovery, no value moved';
  return 'Payment interrupted';
}
