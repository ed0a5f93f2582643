// The certificate revocation list the terminal checks cards against: how fresh it is, how many cards
// it revokes, and a refresh from the configured distribution point.
import type { CrlStatusWire, ErrorInfo, HostStatusWire } from '../../../electron/ipc/contract.js';
import { CRL_REFRESH_MESSAGES } from '../error-messages.js';
import { useShopTime } from '../shop-clock.js';
import { ErrorLine } from './ErrorLine.js';

const STATE: Record<CrlStatusWire['state'], string> = {
  fresh: 'up to date',
  stale: 'out of date',
  missing: 'missing',
};

export function CrlPanel(props: {
  crl: CrlStatusWire | undefined;
  error: ErrorInfo | undefined;
  onRefresh: () => Promise<void>;
  /** The journal's upload to the issuer host (one line; nothing when no host is configured). */
  host?: HostStatusWire | undefined;
}) {
  const { crl } = props;
  const time = useShopTime();
  return (
    <div data-testid="crl-panel">
      {crl && (
        <dl className="facts">
          <dt>Status</dt>
          <dd>
            <span className={`badge ${crl.state === 'fresh' ? 'good' : 'warn'}`} data-testid="crl-state">
              {STATE[crl.state]}
            </span>
          </dd>
          <dt>Revoked cards</dt>
          <dd>{crl.revokedCount} revoked</dd>
          <dt>List number</dt>
          <dd>{crl.crlNumber ? `#${crl.crlNumber}` : '—'}</dd>
          <dt>Issued</dt>
          <dd>{crl.thisUpdate ? time(crl.thisUpdate) : '—'}</dd>
          <dt>Next update</dt>
          <dd>{crl.nextUpdate ? time(crl.nextUpdate) : '—'}</dd>
          <dt>Source</dt>
          <dd>{crl.source ?? '—'}</dd>
          {crl.distributionPoint && (
            <>
              <dt>Fetched from</dt>
              <dd data-testid="crl-distribution-point">{crl.distributionPoint}</dd>
            </>
          )}
          {crl.lastRefresh && (
            <>
              <dt>Last refresh</dt>
              <dd>
                {time(crl.lastRefresh.at)}:{' '}
                {crl.lastRefresh.ok
                  ? crl.lastRefresh.notModified
                    ? 'no newer list'
                    : 'new list loaded'
                  : 'failed'}
              </dd>
            </>
          )}
        </dl>
      )}
      {props.host?.configured && (
        <p data-testid="host-status">
          Issuer host:{' '}
          {props.host.lastUploadAt ? `last upload ${time(props.host.lastUploadAt)}` : 'no upload yet'},{' '}
          {props.host.waiting} {props.host.waiting === 1 ? 'entry' : 'entries'} waiting
          {props.host.crlAgeSeconds !== undefined &&
            `, CRL ${Math.floor(props.host.crlAgeSeconds / 3600)} h old`}
          {props.host.lastError && ` — last attempt failed (${props.host.lastError.code})`}
        </p>
      )}
      <div className="row">
        <button type="button" onClick={() => void props.onRefresh()}>
          Refresh CRL
        </button>
      </div>
      {props.error && <ErrorLine error={props.error} testId="crl-error" context={CRL_REFRESH_MESSAGES} />}
    </div>
  );
}
