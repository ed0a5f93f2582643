// The operator screen: the sale on top (payer card, payment, payee card), the terminal's records
// below in tabs (transaction log, in-doubt transfers, CRL, end of day). State lives in hooks, one per
// concern; this file only wires them to the panels. Every time shows on the shop's clock.
import { useCallback, useEffect, useRef, useState } from 'react';
import { CrlPanel } from './components/CrlPanel.js';
import { DayPanel } from './components/DayPanel.js';
import { DeskTabs } from './components/DeskTabs.js';
import { InDoubtPanel } from './components/InDoubtPanel.js';
import { KioskExitDialog } from './components/KioskExitDialog.js';
import { LogPanel } from './components/LogPanel.js';
import { PayPanel } from './components/PayPanel.js';
import { SlotPanel } from './components/SlotPanel.js';
import { TopBar } from './components/TopBar.js';
import { useCardOperation } from './hooks/useCardOperation.js';
import { useCardQueue } from './hooks/useCardQueue.js';
import { useDayReport } from './hooks/useDayReport.js';
import { useKiosk } from './hooks/useKiosk.js';
import { useLedger } from './hooks/useLedger.js';
import { useSlots } from './hooks/useSlots.js';
import { useTerminalInfo } from './hooks/useTerminalInfo.js';
import { useTransactionLog } from './hooks/useTransactionLog.js';
import { ShopClockContext } from './shop-clock.js';
import type { TerminalApi } from './terminal-api.js';

export function App({ api }: { api: TerminalApi }) {
  const [connected, setConnected] = useState(false);
  const [tab, setTab] = useState('log');
  const amountRef = useRef<HTMLInputElement>(null);
  const queued = useCardQueue();
  const { money, slots, refreshSlots, login, logout, openIssuerSession } = useSlots(api, queued);
  const ledger = useLedger(api, queued);
  const log = useTransactionLog(api);
  const day = useDayReport(api);
  const kiosk = useKiosk(api);
  const info = useTerminalInfo(api);
  const { refreshLedger } = ledger;
  const { reload: reloadLog } = log;
  const { refresh: refreshDay } = day;

  useEffect(() => {
    setConnected(api.connected());
    return api.onConnection(setConnected);
  }, [api]);

  const afterCardWork = useCallback(async () => {
    await refreshSlots();
    await Promise.all([refreshLedger(), reloadLog(), refreshDay()]);
  }, [refreshSlots, refreshLedger, reloadLog, refreshDay]);

  const operation = useCardOperation(api, queued, afterCardWork);
  const busy = operation.running !== undefined || ledger.recovering || !connected;

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

  const slotPanel = (slot: 'payer' | 'payee') => (
    <SlotPanel
      slot={slot}
      state={slots[slot]}
      money={money}
      busy={busy}
      connected={connected}
      onLogin={loginAndClear}
      onLoggedIn={focusAmount}
      onLogout={logout}
      onIssuerSession={openIssuerSession}
    />
  );

  const doubtCount = ledger.inDoubt.length;
  return (
    <ShopClockContext.Provider value={{ locale: money.locale, timeZone: info?.shop.timeZone ?? 'UTC' }}>
      <div className="app">
        <TopBar connected={connected} crl={ledger.crl} kiosk={kiosk.active} onExitKiosk={kiosk.ask} />
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
              body: <CrlPanel crl={ledger.crl} error={ledger.crlError} onRefresh={ledger.refreshCrl} />,
            },
            {
              id: 'summary',
              title: 'End of day',
              label: 'End of day',
              body: <DayPanel day={day} money={money} />,
            },
          ]}
        />
        <KioskExitDialog exit={kiosk.exit} onSubmit={kiosk.submit} onCancel={kiosk.cancel} />
      </div>
    </ShopClockContext.Provider>
  );
}
