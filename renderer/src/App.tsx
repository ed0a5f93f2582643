// The operator screen: the sale on top (payer card, payment, payee card), the terminal's records
// below in tabs (transaction log, in-doubt transfers, CRL, end of day). State lives in hooks, one per
// concern; this file only wires them to the panels.
import { useCallback, useEffect, useRef, useState } from 'react';
import { CrlPanel } from './components/CrlPanel.js';
import { DeskTabs } from './components/DeskTabs.js';
import { InDoubtPanel } from './components/InDoubtPanel.js';
import { KioskExitDialog } from './components/KioskExitDialog.js';
import { LogPanel } from './components/LogPanel.js';
import { PayPanel } from './components/PayPanel.js';
import { SlotPanel } from './components/SlotPanel.js';
import { SummaryPanel } from './components/SummaryPanel.js';
import { TopBar } from './components/TopBar.js';
import { useCardOperation } from './hooks/useCardOperation.js';
import { useCardQueue } from './hooks/useCardQueue.js';
import { useHostStatus } from './hooks/useHostStatus.js';
import { useKiosk } from './hooks/useKiosk.js';
import { useLedger } from './hooks/useLedger.js';
import { useSlots } from './hooks/useSlots.js';
import { useTransactionLog } from './hooks/useTransactionLog.js';
import type { TerminalApi } from './terminal-api.js';

export function App({ api }: { api: TerminalApi }) {
  const [connected, setConnected] = useState(true);
  const [tab, setTab] = useState('log');
  const amountRef = useRef<HTMLInputElement>(null);
  const queued = useCardQueue();
  const { money, slots, refreshSlots, login, logout, openIssuerSession } = useSlots(api, queued);
  const ledger = useLedger(api, queued);
  const hostStatus = useHostStatus(api);
  const log = useTransactionLog(api);
  const kiosk = useKiosk(api);
  const { refreshLedger } = ledger;
  const { reload: reloadLog } = log;

  useEffect(() => api.onConnection(setConnected), [api]);

  const afterCardWork = useCallback(async () => {
    await refreshSlots();
    await Promise.all([refreshLedger(), reloadLog()]);
  }, [refreshSlots, refreshLedger, reloadLog]);

  const operation = useCardOperation(api, queued, afterCardWork);
  const busy = operation.running !== undefined || ledger.recovering;

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
      pinHint={slot === 'payer' && pinFor !== undefined ? 'Enter the card holder’s PIN to pay' : undefined}
      onLogin={login}
      onLoggedIn={slot === 'payer' ? afterPayerLogin : focusAmount}
      onLogout={logout}
      onIssuerSession={openIssuerSession}
    />
  );

  const doubtCount = ledger.inDoubt.length + ledger.deliveries.length + ledger.openContents.length;
  return (
    <div className="app">
      <TopBar connected={connected} crl={ledger.crl} kiosk={kiosk.active} onExitKiosk={kiosk.ask} />
      <main className="sale">
        {slotPanel('payer')}
        <PayPanel
          money={money}
          running={operation.running}
          progress={operation.progress}
          result={operation.result}
          amountRef={amountRef}
          onPay={operation.pay}
          onUpdateKeys={operation.updateKeys}
          onClear={operation.clear}
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
            body: <LogPanel log={log} money={money} />,
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
            body: (
              <SummaryPanel
                summary={ledger.summary}
                error={ledger.summaryError}
                money={money}
                day={ledger.day}
                onDay={ledger.setDay}
                onRefresh={refreshLedger}
              />
            ),
          },
        ]}
      />
      <KioskExitDialog exit={kiosk.exit} onSubmit={kiosk.submit} onCancel={kiosk.cancel} />
    </div>
  );
}
