// How a shop operation ended, in one sentence first, then the error as the operator reads it.

import { ErrorLine } from '../components/ErrorLine.js';
import type { MessageContext } from '../error-messages.js';
import type { Ended } from './useShopOperations.js';

function headline(e: Ended, what: string): string | undefined {
  if ('error' in e) return `${what}: not done`;
  switch (e.outcome.status) {
    case 'completed':
      return undefined;
    case 'refused':
      return `${what}: refused, nothing changed`;
    case 'rolled-back':
      return `${what}: cancelled, nothing changed`;
    case 'interrupted':
      return e.outcome.inDoubt
        ? `${what}: interrupted — re-insert the cards; recovery settles it`
        : `${what}: interrupted, then settled by recovery (${e.outcome.recovery})`;
  }
}

export function OutcomeLine(props: {
  ended: Ended | undefined;
  what: string;
  testId: string;
  context?: MessageContext;
}) {
  const e = props.ended;
  if (!e) return null;
  const error = 'error' in e ? e.error : e.outcome.status === 'completed' ? undefined : e.outcome.error;
  const text = headline(e, props.what);
  return (
    <div data-testid={props.testId} role="status" aria-live="polite">
      {text && (
        <div className="result bad">
          <strong>{text}</strong>
          {error && <ErrorLine error={error} testId={`${props.testId}-error`} context={props.context} />}
        </div>
      )}
      {!text && <div className="result good">{props.what}: done.</div>}
    </div>
  );
}
