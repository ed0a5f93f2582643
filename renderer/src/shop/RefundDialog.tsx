// A refund: the shop's card (payee slot) pays (part of) a sale back to the customer's card (payer
// slot), the cards staying where they are. The sale is named by its flow ID (on its receipt and in the
// log); the terminal shows what is left to refund of it, checked against its own journal. The shop
// card's PIN and a supervisor's ID and PIN go with each refund; the main process checks all of it again.
import { type FormEvent, useState } from 'react';
import type { ErrorInfo, MoneyFormatWire } from '../../../electron/ipc/contract.js';
import type { RefundableWire } from '../../../electron/ipc/contract-shop.js';
import { formatMoney, parseMoney } from '../../../protocol/money-format.js';
import { ErrorLine } from '../components/ErrorLine.js';
import { Modal } from '../components/Modal.js';
import { PinInput } from '../components/PinInput.js';
import { pinContextFor } from '../role-messages.js';
import type { TerminalApi } from '../terminal-api.js';
import { OutcomeLine } from './OutcomeLine.js';
import type { Ended, ShopOperations } from './useShopOperations.js';

export function RefundDialog({
  api,
  ops,
  money,
}: {
  api: TerminalApi;
  ops: ShopOperations;
  money: MoneyFormatWire;
}) {
  const [saleFlowId, setSaleFlowId] = useState('');
  const [sale, setSale] = useState<RefundableWire | undefined>();
  const [lookupError, setLookupError] = useState<ErrorInfo | undefined>();
  const [amountText, setAmountText] = useState('');
  const [shopPin, setShopPin] = useState('');
  const [supervisorId, setSupervisorId] = useState('');
  const [supervisorPin, setSupervisorPin] = useState('');
  const [ended, setEnded] = useState<Ended | undefined>();
  const amount = parseMoney(amountText, money);

  const lookUp = async (e: FormEvent) => {
    e.preventDefault();
    const id = saleFlowId.trim();
    if (!id) return;
    const r = await api.call('refund:check', { saleFlowId: id });
    setEnded(undefined);
    if (!r.ok) {
      setSale(undefined);
      setLookupError(r.error);
      return;
    }
    setLookupError(undefined);
    setSale(r.value);
    setAmountText((r.value.left / 10 ** money.minorUnits).toFixed(money.minorUnits));
  };

  const ready =
    sale !== undefined &&
    amount !== undefined &&
    amount > 0 &&
    shopPin.length >= 4 &&
    supervisorId.trim() !== '' &&
    supervisorPin.length >= 4;

  const refund = async (e: FormEvent) => {
    e.preventDefault();
    if (!ready || !sale || ops.running) return;
    const r = await ops.run(() =>
      api.call('refund:run', {
        saleFlowId: sale.sale.flowId,
        amount: amount ?? 0,
        shopPin,
        supervisor: { operatorId: supervisorId.trim(), pin: supervisorPin },
      }),
    );
    setEnded(r);
    setShopPin('');
    setSupervisorPin('');
    // What is left has changed, or a racing refund changed it: read it again.
    const again = await api.call('refund:check', { saleFlowId: sale.sale.flowId });
    if (again.ok) setSale(again.value);
  };

  const error =
    ended && 'error' in ended
      ? ended.error
      : ended?.outcome.status === 'completed'
        ? undefined
        : ended?.outcome.error;
  return (
    <Modal id="refund-dialog" title="Refund a sale" busy={ops.running} onClose={ops.close} wide>
      <form className="row" onSubmit={(e) => void lookUp(e)}>
        <label htmlFor="refund-sale">Sale (flow ID from its receipt)</label>
        <input
          id="refund-sale"
          className="flow-id"
          autoComplete="off"
          spellCheck={false}
          maxLength={64}
          value={saleFlowId}
          onChange={(e) => setSaleFlowId(e.target.value)}
        />
        <button type="submit" disabled={!saleFlowId.trim()}>
          Look up
        </button>
      </form>
      {lookupError && <ErrorLine error={lookupError} testId="refund-lookup-error" />}
      {sale && (
        <form onSubmit={(e) => void refund(e)}>
          <dl className="facts" data-testid="refund-sale-facts">
            <dt>Sale</dt>
            <dd>
              {formatMoney(sale.sale.amount, money)} from {sale.sale.customerLabel || 'the customer'} to{' '}
              {sale.sale.shopLabel || 'the shop'}
            </dd>
            <dt>Refunded</dt>
            <dd>{formatMoney(sale.refunded, money)}</dd>
            <dt>Left to refund</dt>
            <dd data-testid="refund-left">{formatMoney(sale.left, money)}</dd>
          </dl>
          <div className="field-grid">
            <label htmlFor="refund-amount">Refund ({money.currencyCode})</label>
            <input
              id="refund-amount"
              inputMode="decimal"
              autoComplete="off"
              maxLength={16}
              value={amountText}
              onChange={(e) => setAmountText(e.target.value)}
            />
            <label htmlFor="refund-shop-pin">Shop card PIN</label>
            <PinInput id="refund-shop-pin" value={shopPin} onChange={setShopPin} />
            <label htmlFor="refund-supervisor">Supervisor ID</label>
            <input
              id="refund-supervisor"
              autoComplete="off"
              spellCheck={false}
              maxLength={32}
              value={supervisorId}
              onChange={(e) => setSupervisorId(e.target.value)}
            />
            <label htmlFor="refund-supervisor-pin">Supervisor PIN</label>
            <PinInput id="refund-supervisor-pin" value={supervisorPin} onChange={setSupervisorPin} />
          </div>
          <p className="hint">
            The shop’s card (payee slot) pays the customer’s card (payer slot): the cards stay where they are.
          </p>
          <OutcomeLine
            ended={ended}
            what="Refund"
            testId="refund-result"
            context={error ? pinContextFor(error) : undefined}
          />
          <div className="row">
            <button type="submit" className="primary" disabled={ops.running || !ready}>
              {ops.running ? 'Refunding…' : 'Refund'}
            </button>
          </div>
        </form>
      )}
    </Modal>
  );
}
