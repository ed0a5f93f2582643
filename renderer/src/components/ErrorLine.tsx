// An error as the operator reads it: what happened and what to do, then the service's own words and
// the code for support.
import type { ErrorInfo } from '../../../electron/ipc/contract.js';
import { explain } from '../error-messages.js';

export function ErrorLine({ error, testId }: { error: ErrorInfo; testId?: string }) {
  const m = explain(error);
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
