// The flows of the running (or last) operation, each with the route of a key update and its steps as
// the journal records them.
import type { ProgressFlow } from '../hooks/useCardOperation.js';
import { kindLabel, stepLabel } from '../labels.js';

export function ProgressList({ flows }: { flows: ProgressFlow[] }) {
  return (
    <ol className="progress" data-testid="progress" aria-live="polite" aria-label="Progress">
      {flows.map((f) => (
        <li key={f.flowId} data-kind={f.kind} data-last-step={f.steps.at(-1)}>
          <strong>{kindLabel(f.kind)}</strong>
          {f.route ? <span className="route"> — {f.route} route</span> : null}
          <span className="steps">{f.steps.map(stepLabel).join(' → ')}</span>
        </li>
      ))}
    </ol>
  );
}
