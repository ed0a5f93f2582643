// An error as the operator reads it: what happened and what to do, then the service's own words and
// the code for support.
import type { ErrorInfo } from '../../../electron/ipc/contract.js';
import { explain, type MessageContext } from '../error-messages.js';

export function ErrorLine({
  error,
  testId,
  context,
}: {
  error: ErrorInfo;
  testId?: string;
  /** Narrower words for codes that mean something particular in this action. */
  context?: MessageContext;
}) {
  const m = explain(error, context);
  return (
    <div className="error" role="alert" data-testid={testId} data-code={m.code}>
      <p className="what">
        <strong>{m.what}</strong> <code className="code">{m.code}</code>
      </p>
      <p className="todo">{m.todo}</p>
      <p className="detail">{m.detail}</p>
    </div>
  );
}
