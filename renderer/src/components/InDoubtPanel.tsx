// What the terminal must still finish: value in flight (the payer card debited, the payee card has
// not confirmed the credit), release proofs waiting for their payer card (the payee gave a payment
// up: the payer gets it back when its card is presented), and content flows not settled yet.
// Recovery finishes, cancels or gives back each one with the cards present, exactly once.
import type {
  InDoubtItemWire,
  MoneyFormatWire,
  OpenContentFlowWire,
  PendingDeliveryWire,
} from '../../../electron/ipc/contract.js';
import { formatMoney } from '../../../protocol/money-format.js';
import { shortId } from '../format.js';
import type { RecoveryNote } from '../hooks/useLedger.js';
import { useShopTime } from '../shop-clock.js';
import { ErrorLine } from './ErrorLine.js';

const OUTCOME: Record<string, string> = {
  completed: 'completed (payee credited)',
  'rolled-back': 'cancelled (payer refunded)',
  'waiting-for-payer': 'waiting for the payer card',
  'waiting-for-payee': 'waiting for the payee card',
};

export function InDoubtPanel(props: {
  items: InDoubtItemWire[];
  deliveries: PendingDeliveryWire[];
  contents: OpenContentFlowWire[];
  money: MoneyFormatWire;
  recovering: boolean;
  busy: boolean;
  note: RecoveryNote | undefined;
  onRecover: () => Promise<void>;
}) {
  const { items, deliveries, contents, money, note } = props;
  const time = useShopTime();
  return (
    <div data-testid="indoubt-panel">
      {items.length + deliveries.length + contents.length === 0 ? (
        <p className="note" data-testid="indoubt-empty">
          Nothing in doubt.
        </p>
      ) : (
        <>
          {items.length > 0 && (
            <p>
              The payer card was debited but the payee card has not confirmed the credit. Insert both cards
              named here and press Recover: the payment is then finished or refunded, never twice.
            </p>
          )}
          <ul className="doubt" data-testid="indoubt-list">
            {items.map((i) => (
              <li key={i.flowId}>
                <strong>{formatMoney(i.amount, money)}</strong> from card{' '}
                <span className="mono">{shortId(i.payerId)}</span> to card{' '}
                <span className="mono">{shortId(i.payeeId)}</span>, since {time(i.startedAt)}{' '}
                <span className="muted">(last step: {i.lastStep})</span>
              </li>
            ))}
            {deliveries.map((d) => (
              <li key={d.flowId} data-testid="indoubt-delivery">
                <strong>{formatMoney(d.amount, money)}</strong> to give back to card{' '}
                <span className="mono">{shortId(d.payerId)}</span>: card{' '}
                <span className="mono">{shortId(d.payeeId)}</span> gave the payment up. Insert the paying card
                to return it.
              </li>
            ))}
            {contents.map((c) => (
              <li key={c.flowId} data-testid="indoubt-content">
                {c.kind === 'content-exchange' ? 'Exchange' : 'Transfer'} of{' '}
                <strong>
                  {'amount' in c.gives
                    ? formatMoney(c.gives.amount, money)
                    : `item ${shortId(c.gives.itemId)}`}
                </strong>{' '}
                from card <span className="mono">{shortId(c.fromId)}</span> to card{' '}
                <span className="mono">{shortId(c.toId)}</span>, since {time(c.startedAt)}{' '}
                <span className="muted">
                  ({c.releaseProof ? 'given back, insert the first card' : `last step: ${c.lastStep}`})
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
      <div className="row">
        <button
          type="button"
          onClick={() => void props.onRecover()}
          disabled={props.busy || props.recovering}
        >
          {props.recovering ? 'Recovering…' : 'Recover'}
        </button>
      </div>
      {note?.kind === 'done' && (
        <p className="note" role="status" data-testid="recovery-note">
          {note.transfers.length === 0 && note.contents === 0
            ? 'Nothing could be recovered with the cards present.'
            : `Recovery: ${[
                ...note.transfers.map(
                  (t) => `${formatMoney(t.amount, money)} ${OUTCOME[t.outcome] ?? t.outcome}`,
                ),
                ...(note.contents ? [`${note.contents} content flow(s) settled`] : []),
              ].join('; ')}.`}
        </p>
      )}
      {note?.kind === 'error' && <ErrorLine error={note.error} testId="recovery-error" />}
    </div>
  );
}
