// One card slot: live presence, then the card as read at its access level (holder, validity, key IDs,
// certificate status, balance), its sessions (owner PIN, issuer) and its contents.
import type { MoneyFormatWire, SlotNameWire } from '../../../electron/ipc/contract.js';
import { formatMoney } from '../../../protocol/money-format.js';
import { ISSUER_SESSION_MESSAGES } from '../error-messages.js';
import { formatValidity, holderLabel, shortId } from '../format.js';
import type { SlotState } from '../hooks/useSlots.js';
import type { ShopItem } from '../shop/useShopOperations.js';
import { ContentsPanel } from './ContentsPanel.js';
import { ErrorLine } from './ErrorLine.js';
import { PinForm } from './PinForm.js';

const TITLE: Record<SlotNameWire, string> = { payer: 'Payer card', payee: 'Payee card' };
const CERT_TEXT: Record<string, string> = {
  valid: 'valid',
  revoked: 'revoked',
  expired: 'expired',
  'crl-stale': 'CRL stale',
  invalid: 'invalid',
};

const INSERT_HINT: Record<SlotNameWire, string> = {
  payer: 'Insert the card that pays (the customer’s).',
  payee: 'Insert the card that receives (the shop’s).',
};
const CERT_TONE: Record<string, string> = { valid: 'good', 'crl-stale': 'warn' };

export function SlotPanel(props: {
  slot: SlotNameWire;
  state: SlotState;
  money: MoneyFormatWire;
  busy: boolean;
  /** False while the link to the terminal is down: what is in the reader is not known. */
  connected: boolean;
  /** Shown at the PIN form when a payment waits for the holder's PIN. */
  pinHint?: string;
  onLogin: (slot: SlotNameWire, pin: string) => Promise<boolean>;
  onLoggedIn: () => void;
  onLogout: (slot: SlotNameWire) => Promise<void>;
  onIssuerSession: (slot: SlotNameWire) => Promise<void>;
  /** An item's actions (sell, give, take back, change). */
  onItem?: (item: ShopItem) => void;
  /** The PIN is blocked: unblock it with the issuer's code. */
  onUnblock?: () => void;
}) {
  const { slot, state, money, connected } = props;
  const v = connected ? state.view : undefined;
  const present = connected && (state.status?.cardPresent ?? false);
  const readerMissing = state.status !== undefined && !state.status.readerPresent;
  const issuer = state.contents?.access.session === 'issuer';
  return (
    <section className="panel slot" aria-labelledby={`${slot}-title`} data-testid={`slot-${slot}`}>
      <div className="panel-head">
        <h2 id={`${slot}-title`}>{TITLE[slot]}</h2>
        <span
          className={`presence ${present ? 'in' : 'out'}`}
          data-testid={`${slot}-presence`}
          title={state.status?.reader}
        >
          {!connected
            ? 'Not known — not connected'
            : present
              ? 'Card present'
              : readerMissing
                ? 'No reader'
                : 'No card — insert a card'}
        </span>
      </div>
      {!connected && (
        <p className="insert-hint">The screen is not connected to the terminal: the card cannot be shown.</p>
      )}
      {connected && !present && (
        <p className="insert-hint">
          {readerMissing ? 'The card reader is not connected: check its cable.' : INSERT_HINT[slot]}
        </p>
      )}
      {v && (
        <dl className="card">
          <dt>Holder</dt>
          <dd>
            <strong data-testid={`${slot}-holder`}>{holderLabel(v.certificate.subject)}</strong>{' '}
            <span className="mono muted" title={v.holderId}>
              {shortId(v.holderId)}
            </span>
          </dd>
          <dt>Valid through</dt>
          <dd>
            {formatValidity(v.validity)} {v.expired && <span className="badge bad">expired</span>}
          </dd>
          <dt>Certificate</dt>
          <dd>
            <span
              className={`badge ${CERT_TONE[v.certificate.status] ?? 'bad'}`}
              data-testid={`${slot}-cert`}
            >
              {CERT_TEXT[v.certificate.status] ?? v.certificate.status}
            </span>{' '}
            <span className="muted">serial {v.certificate.serial}</span>
          </dd>
          <dt>Key IDs</dt>
          <dd data-testid={`${slot}-keys`}>
            <span className="nowrap">
              transfer {v.transferKeyId}/{v.transferKeyIdLimit}
            </span>{' '}
            ·{' '}
            <span className="nowrap">
              update {v.updateKeyId}/{v.updateKeyIdLimit}
            </span>
          </dd>
          <dt>Balance</dt>
          <dd className="balance" data-testid={`${slot}-balance`}>
            {v.balance === undefined ? (
              <span title="Hidden: the card shows its balance only to its owner (PIN) or its issuer">
                ••••
              </span>
            ) : (
              formatMoney(v.balance, money)
            )}
          </dd>
        </dl>
      )}
      {connected && state.error && <ErrorLine error={state.error} testId={`${slot}-error`} />}
      {v &&
        (v.ownerLoggedIn || issuer ? (
          <div className="row">
            {v.ownerLoggedIn && <span className="badge good">Owner logged in</span>}
            {issuer && <span className="badge good">Issuer session</span>}
            <button type="button" disabled={props.busy} onClick={() => void props.onLogout(slot)}>
              Log out
            </button>
          </div>
        ) : (
          <div className="session">
            {props.pinHint && (
              <p className="hint" role="status" data-testid={`${slot}-pin-hint`}>
                {props.pinHint}
              </p>
            )}
            {v.pin?.blocked ? (
              <div className="row" data-testid={`${slot}-pin-blocked`}>
                <span className="badge bad">PIN blocked</span>
                <button type="button" className="small" disabled={props.busy} onClick={props.onUnblock}>
                  Unblock PIN…
                </button>
              </div>
            ) : (
              <PinForm
                slot={slot}
                busy={props.busy}
                triesLeft={v.pin?.triesLeft}
                onLogin={props.onLogin}
                onLoggedIn={props.onLoggedIn}
              />
            )}
            <button
              type="button"
              className="link"
              disabled={props.busy}
              onClick={() => void props.onIssuerSession(slot)}
              title="The other card, if it is this card's issuer card, gets the issuer's view of this card"
            >
              Issuer session
            </button>
          </div>
        ))}
      {state.sessionError && (
        <ErrorLine
          error={state.sessionError}
          testId={`${slot}-pin-error`}
          context={state.sessionAction === 'issuer' ? ISSUER_SESSION_MESSAGES : undefined}
        />
      )}
      {v && (
        <ContentsPanel
          slot={slot}
          listing={state.contents}
          error={state.contentsError}
          onItem={props.onItem}
        />
      )}
    </section>
  );
}
