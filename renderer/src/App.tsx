// The operator screen: the sale on top (payer card, payment, payee card), the terminal's records
// below in tabs (transaction log, in-doubt transfers, CRL, end of day). State lives in hooks, one per
// concern; this file only wires them to the panels. Every time shows on the shop's clock.
import { type ReactElement, useCallback, useEffect, useRef, useState } from 'react';
import type { CrlStatusWire } from '../../electron/ipc/contract.js';
import { CrlPanel } from './components/CrlPanel.js';
import { DayPanel } from './components/DayPanel.js';
import { DeskTabs } from './components/DeskTabs.js';
import { InDoubtPanel } from './components/InDoubtPanel.js';
import { KioskExitDialog } from './components/KioskExitDialog.js';
import { LogPanel } from './components/LogPanel.js';
import { PayPanel } from './components/PayPanel.js';
import { SignInScreen } from './components/SignInScreen.js';
import { SlotPanel } from './components/SlotPanel.js';
import { TopBar } from './components/TopBar.js';
import { useCardOperation } from './hooks/useCardOperation.js';
import { useCardQueue } from './hooks/useCardQueue.js';
import { useDayReport } from './hooks/useDayReport.js';
import { useHostStatus } from './hooks/useHostStatus.js';
import { useKiosk } from './hooks/useKiosk.js';
import { useLedger } from './hooks/useLedger.js';
import { useOperator } from './hooks/useOperator.js';
import { useSlots } from './hooks/useSlots.js';
import { useTerminalInfo } from './hooks/useTerminalInfo.js';
import { useTransactionLog } from './hooks/useTransactionLog.js';
import { ShopDialogs } from './shop/ShopDialogs.js';
import { ShopTools } from './shop/ShopTools.js';
import { TrayPanel, useTray } from './shop/TrayPanel.js';
import { useShopOperations } from './shop/useShopOperations.js';
import { ShopClockContext } from './shop-clock.js';
import type { TerminalApi } from './terminal-api.js';

/**
 * Who is at the terminal decides what the page holds: the sign-in (or lock) screen alone until an
 * operator signs in; then the terminal. Locked again, the terminal's views unmount: no card data stays
 * on the page behind the lock.
 */
export function App({ api }: { api: TerminalApi }) {
  const [connected, setConnected] = useState(() => api.connected());
  const operator = useOperator(api);
  const kiosk = useKiosk(api);
  useEffect(() => {
    setConnected(api.connected());
    return api.onConnection(setConnected);
  }, [api]);
  const { desk } = operator;
  const bar = (crl?: CrlStatusWire) => (
    <TopBar
      crl={crl}
      connected={connected}
      kiosk={kiosk.active}
      onExitKiosk={kiosk.ask}
      desk={desk}
      onLock={operator.lock}
      onSignOut={operator.signOut}
    />
  );
  const exit = <KioskExitDialog exit={kiosk.exit} onSubmit={kiosk.submit} onCancel={kiosk.cancel} />;
  if (desk?.state === 'signed-out' || desk?.state === 'locked') {
    return (
      <div className="app gate">
        {bar()}
        <SignInScreen desk={desk} error={operator.error} busy={operator.busy} onSignIn={operator.signIn} />
        {exit}
      </div>
    );
  }
  if (!desk) return <div className="app gate">{bar()}</div>;
  return <Terminal api={api} bar={bar} exit={exit} connected={connected} />;
}

function Terminal(props: {
  api: TerminalApi;
  bar: (crl?: CrlStatusWire) => ReactElement;
  exit: ReactElement;
  connected: boolean;
}) {
  const { api, connected } = props;
  const [tab, setTab] = useState('log');
  const amountRef = useRef<HTMLInputElement>(null);
  const queued = useCardQueue();
  const { money, slots, refreshSlots, login, logout, openIssuerSession } = useSlots(api, queued);
  const ledger = useLedger(api, queued);
  const hostStatus = useHostStatus(api);
  const log = useTransactionLog(api);
  const day = useDayReport(api);
  const info = useTerminalInfo(api);
  const tray = useTray(api);
  const { refreshLedger } = ledger;
  const { reload: reloadLog } = log;
  const { refresh: refreshDay } = day;

  const afterCardWork = useCallback(async () => {
    await refreshSlots();
    await Promise.all([refreshLedger(), reloadLog(), refreshDay()]);
  }, [refreshSlots, refreshLedger, reloadLog, refreshDay]);

  const operation = useCardOperation(api, queued, afterCardWork);
  const ops = useShopOperations(queued, afterCardWork);
  const busy = operation.running !== undefined || ledger.recovering || ops.running || !connected;

  // A refusal goes stale when a card comes or goes: it no longer says what would happen now.
  const { clearRefusal } = operation;
  useEffect(() => {
    const offs = [api.on('card-inserted', clearRefusal), api.on('card-removed', clearRefusal)];
    return () => {
      for (const off of offs) off();
    };
  }, [api, clearRefusal]);
  const loginAndClear = useCallback(
    async (slot: 'payer' | 'payee', pin: string) => {
      const ok = await login(slot, pin);
      if (ok) clearRefusal();
      return ok;
    },
    [login, clearRefusal],
  );

  // A payment left in doubt: the in-doubt view, where its recovery is, comes to the front.
  const result = operation.result;
  useEffect(() => {
    if (result && 'outcome' in result && result.outcome.status === 'interrupted' && result.outcome.inDoubt)
      setTab('indoubt');
  }, [result]);

  // A recovery settles what an interrupted payment left in doubt: its "in doubt" result is then stale.
  const { clear: clearResult } = operation;
  const recover = async () => {
    if (await ledger.recover()) clearResult();
    await afterCardWork();
  };

  const focusAmount = useCallback(() => amountRef.current?.focus(), []);

  // A payment the payer card makes only with its PIN: the PIN form on the payer card asks for it,
  // and the payment runs once the card has checked it.
  const [pinFor, setPinFor] = useState<number | undefined>();
  useEffect(() => {
    const needsPin =
      result && 'outcome' in result && result.outcome.status === 'refused' ? result.outcome.error : undefined;
    if (needsPin?.code !== 'E_PIN_REQUIRED' || needsPin.details.slot !== 'payer') return;
    setPinFor(Number(needsPin.details.amount));
    document.getElementById('payer-pin')?.focus();
  }, [result]);
  const { pay } = operation;
  const afterPayerLogin = useCallback(() => {
    if (pinFor === undefined) return focusAmount();
    setPinFor(undefined);
    void pay(pinFor);
  }, [pinFor, pay, focusAmount]);

  const slotPanel = (slot: 'payer' | 'payee') => (
    <SlotPanel
      slot={slot}
      state={slots[slot]}
      money={money}
      busy={busy}
      connected={connected}
      pinHint={slot === 'payer' && pinFor !== undefined ? 'Enter the card holder’s PIN to pay' : undefined}
      onLogin={loginAndClear}
      onLoggedIn={slot === 'payer' ? afterPayerLogin : focusAmount}
      onLogout={logout}
      onIssuerSession={openIssuerSession}
      onItem={(item) => ops.open({ kind: 'item', slot, item })}
      onUnblock={() => ops.open({ kind: 'unblock', slot })}
    />
  );

  const doubtCount = ledger.inDoubt.length + ledger.deliveries.length + ledger.openContents.length;
  return (
    <ShopClockContext.Provider value={{ locale: money.locale, timeZone: info?.shop.timeZone ?? 'UTC' }}>
      <div className="app">
        {props.bar(ledger.crl)}
        <main className="sale">
          {slotPanel('payer')}
          <PayPanel
            money={money}
            running={operation.running}
            foreign={operation.foreign}
            connected={connected}
            progress={operation.progress}
            result={operation.result}
            amountRef={amountRef}
            onPay={operation.pay}
            onUpdateKeys={operation.updateKeys}
            onClear={operation.clear}
            onReceipt={(receipt) => ops.open({ kind: 'receipt', receipt })}
            tools={
              <ShopTools
                busy={busy}
                onIssue={() => ops.open({ kind: 'issue' })}
                onRefund={() => ops.open({ kind: 'refund' })}
              />
            }
          />
          {slotPanel('payee')}
        </main>
        <DeskTabs
          active={tab}
          onSelect={setTab}
          tabs={[
            {
              id: 'log',
              title: 'Transaction log',
              label: 'Transaction log',
              body: <LogPanel log={log} money={money} timeZone={info?.shop.timeZone ?? 'UTC'} />,
            },
            {
              id: 'indoubt',
              title: (
                <>
                  In doubt{' '}
                  <span className={`count ${doubtCount ? 'bad' : ''}`} data-testid="indoubt-count">
                    {doubtCount}
                  </span>
                </>
              ),
              label: `In doubt: ${doubtCount}`,
              body: (
                <InDoubtPanel
                  items={ledger.inDoubt}
                  deliveries={ledger.deliveries}
                  contents={ledger.openContents}
                  money={money}
                  recovering={ledger.recovering}
                  busy={operation.running !== undefined}
                  note={ledger.recovery}
                  onRecover={recover}
                />
              ),
            },
            {
              id: 'crl',
              title: 'Revocation list',
              label: 'Revocation list',
              body: (
                <CrlPanel
                  crl={ledger.crl}
                  error={ledger.crlError}
                  onRefresh={ledger.refreshCrl}
                  host={hostStatus}
                />
              ),
            },
            {
              id: 'summary',
              title: 'End of day',
              label: 'End of day',
              body: <DayPanel day={day} money={money} />,
            },
            ...(tray.tray?.available
              ? [{ id: 'tray', title: 'Card tray', label: 'Card tray', body: <TrayPanel tray={tray} /> }]
              : []),
          ]}
        />
        <ShopDialogs api={api} ops={ops} queued={queued} money={money} slots={slots} after={afterCardWork} />
        {props.exit}
      </div>
    </ShopClockContext.Provider>
  );
}
