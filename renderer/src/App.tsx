// The operator screen: two card slots, the payment with its step-by-step progress and result, the
// transaction log, in-doubt transfers with recovery, the CRL and the end-of-day summary.
import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import type {
  CardViewWire,
  CrlStatusWire,
  ErrorInfo,
  EventOf,
  InDoubtItemWire,
  JournalRecordWire,
  MoneyFormatWire,
  SettlementSummaryWire,
  SlotNameWire,
  SlotStatusWire,
  TransferOutcomeWire,
} from '../../electron/ipc/contract.js';
import { formatMoney, parseMoney } from './money.js';
import type { TerminalApi } from './terminal-api.js';

const LOG_PAGE = 12;
const DEFAULT_MONEY: MoneyFormatWire = { currencyCode: 'EUR', minorUnits: 2, locale: 'en-IE' };

/** What the operator reads first; the card's or service's own message and the code follow. */
const HEADLINES: Record<string, string> = {
  E_PKI_REVOKED: 'A card has been revoked by its issuer and cannot be used.',
  E_PKI_EXPIRED: 'A card certificate has expired.',
  E_CARD_EXPIRED: 'A card is past its validity date.',
  E_CRL_STALE: 'The revocation list is out of date: refresh it before paying.',
  E_INSUFFICIENT_FUNDS: 'The payer card does not hold enough for this amount.',
  E_BALANCE_LIMIT: 'The payee card cannot take this amount (maximum balance).',
  E_PIN_WRONG: 'Wrong PIN.',
  E_PIN_BLOCKED: 'The PIN is blocked: the card issuer can unblock it.',
  E_CARD_ABSENT: 'A card is missing: insert both cards.',
  E_SAME_CARD: 'The same card is in both slots.',
  E_BUSY: 'The terminal is busy: wait for the current operation to finish.',
  E_INPUT_INVALID: 'The input is not valid.',
  E_KEY_LIMIT: 'A card has reached its last key and must be replaced.',
  E_TRANSPORT: 'The connection to a card was interrupted.',
  E_TRANSPORT_TIMEOUT: 'A card did not answer in time.',
  E_READER_UNAVAILABLE: 'A card reader is not available.',
  E_CURRENCY_MISMATCH: 'The cards hold a different currency.',
  E_LOG_TAMPERED: 'The transaction log does not verify: call support.',
};

const KIND_LABEL: Record<string, string> = {
  'key-update': 'Key update',
  'value-transfer': 'Value transfer',
  recovery: 'Recovery',
};

interface SlotState {
  status?: SlotStatusWire;
  view?: CardViewWire;
  error?: ErrorInfo;
  pinError?: ErrorInfo;
}

interface ProgressFlow {
  flowId: string;
  kind: string;
  route?: string;
  steps: string[];
}

export function App({ api }: { api: TerminalApi }) {
  const [connected, setConnected] = useState(true);
  const [money, setMoney] = useState<MoneyFormatWire>(DEFAULT_MONEY);
  const [slots, setSlots] = useState<Record<SlotNameWire, SlotState>>({ payer: {}, payee: {} });
  const [paying, setPaying] = useState(false);
  const [progress, setProgress] = useState<ProgressFlow[]>([]);
  const [outcome, setOutcome] = useState<TransferOutcomeWire | undefined>();
  const [payError, setPayError] = useState<ErrorInfo | undefined>();
  const [inDoubt, setInDoubt] = useState<InDoubtItemWire[]>([]);
  const [recoveryNote, setRecoveryNote] = useState<string | undefined>();
  const [crl, setCrl] = useState<CrlStatusWire | undefined>();
  const [crlError, setCrlError] = useState<ErrorInfo | undefined>();
  const [summary, setSummary] = useState<SettlementSummaryWire | undefined>();
  const [logCursor, setLogCursor] = useState<number[]>([]);
  const [logSearch, setLogSearch] = useState('');
  const [log, setLog] = useState<{ records: JournalRecordWire[]; next?: number }>({ records: [] });
  const [logVerify, setLogVerify] = useState<string | undefined>();
  const payingRef = useRef(false);
  // The engine runs one card operation at a time: the screen queues its own instead of meeting E_BUSY.
  const cardQueue = useRef<Promise<unknown>>(Promise.resolve());
  const queued = useCallback(<T,>(work: () => Promise<T>): Promise<T> => {
    const run = cardQueue.current.then(work, work);
    cardQueue.current = run.catch(() => undefined);
    return run;
  }, []);

  const patchSlot = useCallback((slot: SlotNameWire, patch: Partial<SlotState>) => {
    setSlots((s) => ({ ...s, [slot]: { ...s[slot], ...patch } }));
  }, []);

  const readCard = useCallback(
    (slot: SlotNameWire) =>
      queued(async () => {
        const r = await api.call('cards:read', { slot });
        if (r.ok) patchSlot(slot, { view: r.value, error: undefined });
        else patchSlot(slot, { view: undefined, error: r.error });
      }),
    [api, queued, patchSlot],
  );

  const refreshLedger = useCallback(async () => {
    const [doubt, crlStatus, sum] = await Promise.all([
      api.call('indoubt:list'),
      api.call('crl:status'),
      api.call('settlement:summary', {}),
    ]);
    if (doubt.ok) setInDoubt(doubt.value.items);
    if (crlStatus.ok) setCrl(crlStatus.value);
    if (sum.ok) setSummary(sum.value);
  }, [api]);

  const loadLog = useCallback(
    async (cursor: number[], search: string) => {
      const before = cursor.at(-1);
      const r = await api.call('log:page', {
        limit: LOG_PAGE,
        ...(before !== undefined ? { beforeSeq: before } : {}),
        ...(search ? { search } : {}),
      });
      if (r.ok)
        setLog({
          records: r.value.records,
          ...(r.value.nextBeforeSeq ? { next: r.value.nextBeforeSeq } : {}),
        });
    },
    [api],
  );

  const refreshAll = useCallback(async () => {
    const status = await api.call('slots:status');
    if (status.ok) {
      setMoney(status.value.money);
      for (const s of status.value.slots) patchSlot(s.slot, { status: s });
      for (const s of status.value.slots) {
        if (s.cardPresent) await readCard(s.slot);
        else patchSlot(s.slot, { view: undefined, error: undefined });
      }
    }
    await refreshLedger();
  }, [api, patchSlot, readCard, refreshLedger]);

  useEffect(() => {
    void refreshAll();
    void loadLog([], '');
    const offs = [
      api.onConnection(setConnected),
      api.on('card-inserted', (s: EventOf<'card-inserted'>) => {
        patchSlot(s.slot, { status: s, pinError: undefined });
        void readCard(s.slot);
      }),
      api.on('card-removed', (s: EventOf<'card-removed'>) => {
        patchSlot(s.slot, { status: s, view: undefined, error: undefined, pinError: undefined });
      }),
      api.on('transfer-step', (e: EventOf<'transfer-step'>) => {
        if (!payingRef.current) return;
        setProgress((flows) => {
          const at = flows.findIndex((f) => f.flowId === e.flowId);
          if (at < 0)
            return [
              ...flows,
              { flowId: e.flowId, kind: e.kind, ...(e.route ? { route: e.route } : {}), steps: [e.step] },
            ];
          return flows.map((f, i) =>
            i === at ? { ...f, ...(e.route ? { route: e.route } : {}), steps: [...f.steps, e.step] } : f,
          );
        });
      }),
      api.on('recovered', () => {
        void refreshLedger();
      }),
    ];
    return () => {
      for (const off of offs) off();
    };
  }, [api, refreshAll, loadLog, patchSlot, readCard, refreshLedger]);

  const afterCardWork = useCallback(async () => {
    await refreshAll();
    setLogCursor([]);
    await loadLog([], logSearch);
  }, [refreshAll, loadLog, logSearch]);

  const login = (slot: SlotNameWire, pin: string) =>
    queued(async () => {
      const r = await api.call('session:login', { slot, pin });
      if (r.ok) patchSlot(slot, { view: r.value, pinError: undefined, error: undefined });
      else patchSlot(slot, { pinError: r.error });
      return r.ok;
    });

  const logout = async (slot: SlotNameWire) => {
    await queued(() => api.call('session:logout', { slot }));
    await readCard(slot);
  };

  const pay = async (amount: number) => {
    payingRef.current = true;
    setPaying(true);
    setProgress([]);
    setOutcome(undefined);
    setPayError(undefined);
    const r = await queued(() => api.call('transfer:run', { amount }));
    payingRef.current = false;
    setPaying(false);
    if (r.ok) setOutcome(r.value);
    else setPayError(r.error);
    await afterCardWork();
  };

  const recover = async () => {
    setRecoveryNote(undefined);
    const r = await queued(() => api.call('recovery:run'));
    if (r.ok) {
      const done = r.value.transfers.map((t) => `${formatMoney(t.amount, money)}: ${t.outcome}`);
      setRecoveryNote(
        done.length ? `Recovery: ${done.join(', ')}` : 'Nothing could be recovered with the cards present.',
      );
    } else setRecoveryNote(`${HEADLINES[r.error.code] ?? r.error.message} (${r.error.code})`);
    await afterCardWork();
  };

  const refreshCrl = async () => {
    setCrlError(undefined);
    const r = await api.call('crl:refresh');
    if (r.ok) {
      setCrl(r.value);
      const last = r.value.lastRefresh;
      if (last && !last.ok && last.error) setCrlError({ ...last.error, details: {} });
    } else setCrlError(r.error);
  };

  const pageLog = (cursor: number[]) => {
    setLogCursor(cursor);
    void loadLog(cursor, logSearch);
  };

  const verifyLog = async () => {
    const r = await api.call('log:verify');
    if (!r.ok) return setLogVerify(`${r.error.message} (${r.error.code})`);
    setLogVerify(
      r.value.ok
        ? `Log verified: ${r.value.count} entries, hash chain intact.`
        : `LOG TAMPERED at entry ${r.value.firstBadSeq} (${r.value.reason}) — E_LOG_TAMPERED`,
    );
  };

  return (
    <div className="app">
      <header className="topbar">
        <h1>Settlement terminal</h1>
        <span className={connected ? 'conn ok' : 'conn bad'} role="status">
          {connected ? 'Connected' : 'Disconnected — restart the terminal and open its new address'}
        </span>
      </header>
      <main className="layout">
        <SlotPanel
          slot="payer"
          state={slots.payer}
          money={money}
          busy={paying}
          onLogin={login}
          onLogout={logout}
        />
        <PayPanel
          money={money}
          paying={paying}
          progress={progress}
          outcome={outcome}
          error={payError}
          onPay={pay}
        />
        <SlotPanel
          slot="payee"
          state={slots.payee}
          money={money}
          busy={paying}
          onLogin={login}
          onLogout={logout}
        />
        <section className="panel log" aria-labelledby="log-title" data-testid="log-panel">
          <h2 id="log-title">Transaction log</h2>
          <form
            className="row"
            onSubmit={(e) => {
              e.preventDefault();
              setLogCursor([]);
              void loadLog([], logSearch);
            }}
          >
            <label htmlFor="log-search">Search</label>
            <input
              id="log-search"
              type="search"
              maxLength={200}
              value={logSearch}
              onChange={(e) => setLogSearch(e.target.value)}
              placeholder="flow, step or card ID"
            />
            <button type="submit">Search</button>
            <button type="button" onClick={() => void verifyLog()}>
              Verify log
            </button>
          </form>
          {logVerify && <p className="note">{logVerify}</p>}
          <table>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Time (UTC)</th>
                <th scope="col">Flow</th>
                <th scope="col">Step</th>
                <th scope="col">Flow ID</th>
              </tr>
            </thead>
            <tbody>
              {log.records.map((r) => (
                <tr key={r.seq}>
                  <td>{r.seq}</td>
                  <td>{r.at.slice(0, 19).replace('T', ' ')}</td>
                  <td>{KIND_LABEL[r.flowKind] ?? r.flowKind}</td>
                  <td>{r.step}</td>
                  <td className="mono" title={r.flowId}>
                    {r.flowId.slice(0, 8)}
                  </td>
                </tr>
              ))}
              {log.records.length === 0 && (
                <tr>
                  <td colSpan={5}>No entries.</td>
                </tr>
              )}
            </tbody>
          </table>
          <div className="row">
            <button
              type="button"
              disabled={logCursor.length === 0}
              onClick={() => pageLog(logCursor.slice(0, -1))}
            >
              ← Newer
            </button>
            <button
              type="button"
              disabled={log.next === undefined}
              onClick={() => log.next !== undefined && pageLog([...logCursor, log.next])}
            >
              Older →
            </button>
          </div>
        </section>
        <div className="side">
          <section className="panel" aria-labelledby="doubt-title" data-testid="indoubt-panel">
            <h2 id="doubt-title">In-doubt transfers</h2>
            {inDoubt.length === 0 ? (
              <p className="note" data-testid="indoubt-empty">
                Nothing in doubt.
              </p>
            ) : (
              <ul className="doubt" data-testid="indoubt-list">
                {inDoubt.map((i) => (
                  <li key={i.flowId}>
                    <strong>{formatMoney(i.amount, money)}</strong> from card {short(i.payerId)} to card{' '}
                    {short(i.payeeId)}, since {i.startedAt.slice(0, 19).replace('T', ' ')} UTC. The payer card
                    was debited; present both cards and recover.
                  </li>
                ))}
              </ul>
            )}
            <button type="button" onClick={() => void recover()} disabled={paying}>
              Recover
            </button>
            {recoveryNote && (
              <p className="note" role="status">
                {recoveryNote}
              </p>
            )}
          </section>
          <section className="panel" aria-labelledby="crl-title" data-testid="crl-panel">
            <h2 id="crl-title">Revocation list (CRL)</h2>
            {crl && (
              <p>
                <span className={`badge ${crl.state === 'fresh' ? 'good' : 'warn'}`}>{crl.state}</span>{' '}
                {crl.crlNumber ? `#${crl.crlNumber}, ` : ''}
                {crl.revokedCount} revoked; next update {crl.nextUpdate?.slice(0, 10) ?? '—'}
              </p>
            )}
            <button type="button" onClick={() => void refreshCrl()}>
              Refresh CRL
            </button>
            {crlError && <ErrorLine error={crlError} />}
          </section>
          <section className="panel" aria-labelledby="sum-title" data-testid="summary-panel">
            <h2 id="sum-title">End of day</h2>
            {summary && (
              <>
                <p>
                  {summary.day}: <strong>{summary.count}</strong> payment(s), total{' '}
                  <strong>{formatMoney(summary.total, money)}</strong>
                  {summary.notCompleted ? `; ${summary.notCompleted} not completed` : ''};{' '}
                  {summary.inDoubt.length} in doubt.
                </p>
                <ul>
                  {summary.directions.map((d) => (
                    <li key={`${d.payerId}>${d.payeeId}`}>
                      card {short(d.payerId)} → card {short(d.payeeId)}: {d.count} payment(s),{' '}
                      {formatMoney(d.total, money)}
                    </li>
                  ))}
                </ul>
              </>
            )}
            <button type="button" onClick={() => void refreshLedger()}>
              Update summary
            </button>
          </section>
        </div>
      </main>
    </div>
  );
}

function SlotPanel(props: {
  slot: SlotNameWire;
  state: SlotState;
  money: MoneyFormatWire;
  busy: boolean;
  onLogin: (slot: SlotNameWire, pin: string) => Promise<boolean>;
  onLogout: (slot: SlotNameWire) => Promise<void>;
}) {
  const { slot, state, money } = props;
  const [pin, setPin] = useState('');
  const v = state.view;
  const title = slot === 'payer' ? 'Payer card' : 'Payee card';
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!pin) return;
    const ok = await props.onLogin(slot, pin);
    setPin('');
    if (!ok) document.getElementById(`${slot}-pin`)?.focus();
  };
  return (
    <section className="panel slot" aria-labelledby={`${slot}-title`} data-testid={`slot-${slot}`}>
      <h2 id={`${slot}-title`}>{title}</h2>
      <p className="presence" data-testid={`${slot}-presence`}>
        {state.status?.cardPresent ? 'Card present' : 'No card — insert a card'}
        {state.status?.reader ? <span className="muted"> · {state.status.reader}</span> : null}
      </p>
      {v && (
        <dl>
          <dt>Holder</dt>
          <dd data-testid={`${slot}-holder`}>{holderLabel(v.certificate.subject)}</dd>
          <dt>Card ID</dt>
          <dd className="mono">{short(v.holderId)}</dd>
          <dt>Valid through</dt>
          <dd>
            {formatValidity(v.validity)}
            {v.expired && <span className="badge bad">expired</span>}
          </dd>
          <dt>Keys</dt>
          <dd>
            transfer {v.transferKeyId}/{v.transferKeyIdLimit}, update {v.updateKeyId}/{v.updateKeyIdLimit}
          </dd>
          <dt>Certificate</dt>
          <dd>
            <span
              className={`badge ${v.certificate.status === 'valid' ? 'good' : 'bad'}`}
              data-testid={`${slot}-cert`}
            >
              {v.certificate.status}
            </span>{' '}
            <span className="muted">serial {v.certificate.serial}</span>
          </dd>
          <dt>Balance</dt>
          <dd className="balance" data-testid={`${slot}-balance`}>
            {v.balance === undefined ? (
              <span title="Hidden: the card shows its balance only to its owner (PIN)">••••</span>
            ) : (
              formatMoney(v.balance, money)
            )}
          </dd>
        </dl>
      )}
      {state.error && <ErrorLine error={state.error} />}
      {v &&
        (v.ownerLoggedIn ? (
          <div className="row">
            <span className="badge good">Owner logged in</span>
            <button type="button" disabled={props.busy} onClick={() => void props.onLogout(slot)}>
              Log out
            </button>
          </div>
        ) : (
          <form className="row" onSubmit={(e) => void submit(e)}>
            <label htmlFor={`${slot}-pin`}>Owner PIN</label>
            <input
              id={`${slot}-pin`}
              type="password"
              inputMode="numeric"
              autoComplete="off"
              maxLength={12}
              value={pin}
              onChange={(e) => setPin(e.target.value.replace(/\D/g, ''))}
            />
            <button type="submit" disabled={props.busy || pin.length < 4}>
              Log in
            </button>
          </form>
        ))}
      {state.pinError && <ErrorLine error={state.pinError} testId={`${slot}-pin-error`} />}
    </section>
  );
}

function PayPanel(props: {
  money: MoneyFormatWire;
  paying: boolean;
  progress: ProgressFlow[];
  outcome: TransferOutcomeWire | undefined;
  error: ErrorInfo | undefined;
  onPay: (amount: number) => Promise<void>;
}) {
  const { money, outcome } = props;
  const [text, setText] = useState('');
  const amount = parseMoney(text, money);
  const invalid = text.trim() !== '' && (amount === undefined || amount === 0);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (amount && !props.paying) void props.onPay(amount);
  };
  return (
    <section className="panel pay" aria-labelledby="pay-title" data-testid="pay-panel">
      <h2 id="pay-title">Payment</h2>
      <form onSubmit={submit} className="payform">
        <label htmlFor="amount">Amount ({money.currencyCode})</label>
        <input
          id="amount"
          inputMode="decimal"
          autoComplete="off"
          maxLength={16}
          value={text}
          placeholder="0.00"
          aria-invalid={invalid}
          aria-describedby="amount-help"
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit" className="primary" disabled={props.paying || !amount}>
          {props.paying ? 'Paying…' : 'Pay'}
        </button>
        <p id="amount-help" className={invalid ? 'error' : 'muted'}>
          {invalid
            ? `Not an amount: use digits with at most ${money.minorUnits} decimals, e.g. 12.50.`
            : amount
              ? `Pays ${formatMoney(amount, money)} from the payer card to the payee card.`
              : 'Enter the amount and press Enter.'}
        </p>
      </form>
      <ol className="progress" data-testid="progress" aria-live="polite">
        {props.progress.map((f) => (
          <li key={f.flowId} data-kind={f.kind}>
            <strong>{KIND_LABEL[f.kind] ?? f.kind}</strong>
            {f.route ? ` — ${f.route} route` : ''}
            <span className="steps">{f.steps.join(' → ')}</span>
          </li>
        ))}
      </ol>
      <div data-testid="pay-result" role="status" aria-live="polite">
        {outcome?.status === 'completed' && (
          <div className="result good">
            <strong>Payment complete: {formatMoney(outcome.amount, money)}</strong>
            {outcome.keyUpdates.map((k) => (
              <p key={k.flowId}>
                Key update on the {k.receiver} card ({k.route} route): {k.reason}
              </p>
            ))}
            <p>
              Payer now {maybeMoney(outcome.balances.payer, money)}, payee{' '}
              {maybeMoney(outcome.balances.payee, money)}.
            </p>
            {outcome.warnings.map((w) => (
              <p key={w}>Warning: {w}</p>
            ))}
          </div>
        )}
        {outcome && outcome.status !== 'completed' && (
          <div className="result bad">
            <strong>
              {outcome.status === 'refused'
                ? 'Payment refused'
                : outcome.status === 'rolled-back'
                  ? 'Payment cancelled: no value moved'
                  : outcome.inDoubt
                    ? 'Payment interrupted: value in doubt — re-insert the cards and recover'
                    : 'Payment interrupted'}
            </strong>
            <ErrorLine error={outcome.error} testId="pay-error" />
          </div>
        )}
        {props.error && (
          <div className="result bad">
            <strong>Payment not started</strong>
            <ErrorLine error={props.error} testId="pay-error" />
          </div>
        )}
      </div>
    </section>
  );
}

function ErrorLine({ error, testId }: { error: ErrorInfo; testId?: string }) {
  const headline = HEADLINES[error.code];
  return (
    <p className="error" role="alert" data-testid={testId}>
      {headline ? `${headline} ` : ''}
      <span className="detail">{capitalize(error.message)}</span> <code className="code">{error.code}</code>
    </p>
  );
}

function maybeMoney(minor: number | undefined, money: MoneyFormatWire): string {
  return minor === undefined ? '•••• (hidden)' : formatMoney(minor, money);
}

function holderLabel(subject: string): string {
  return /CN=([^,]+)/.exec(subject)?.[1] ?? subject;
}

function formatValidity(v: string): string {
  return /^\d{8}$/.test(v) ? `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6)}` : v;
}

function short(hex: string): string {
  return hex.length > 12 ? `${hex.slice(0, 8)}…` : hex;
}

function capitalize(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? '' : '.') : s;
}
