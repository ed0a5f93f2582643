// What the operator can do with one item: on the shop's card (payee slot), sell it to the customer in
// one exchange (the customer's card pays; their PIN when this screen has not opened their login) or
// give it; on the customer's card (payer slot), take it back to the shop (their PIN) or change its
// details in an issuer session with the shop's issuer card (a supervisor's action).
import { type FormEvent, useState } from 'react';
import type { MoneyFormatWire, SlotNameWire } from '../../../electron/ipc/contract.js';
import { formatMoney, parseMoney } from '../../../protocol/money-format.js';
import { amountPlaceholder } from '../amount-hint.js';
import { Modal } from '../components/Modal.js';
import { PinInput } from '../components/PinInput.js';
import { bodyText } from '../format.js';
import type { TerminalApi } from '../terminal-api.js';
import { OutcomeLine } from './OutcomeLine.js';
import type { Ended, ShopItem, ShopOperations } from './useShopOperations.js';

type Action = 'sell' | 'give' | 'take-back' | 'change';

const ACTIONS: Record<SlotNameWire, { id: Action; label: string }[]> = {
  payee: [
    { id: 'sell', label: 'Sell it to the customer' },
    { id: 'give', label: 'Give it to the customer' },
  ],
  payer: [
    { id: 'take-back', label: 'Take it back to the shop' },
    { id: 'change', label: 'Change its details (issuer session)' },
  ],
};

const WHAT: Record<Action, string> = {
  sell: 'Sale',
  give: 'Item sent',
  'take-back': 'Item taken back',
  change: 'Change',
};
const BUTTON: Record<Action, string> = {
  sell: 'Sell',
  give: 'Give',
  'take-back': 'Take back',
  change: 'Save the change',
};

export function ItemDialog(props: {
  api: TerminalApi;
  ops: ShopOperations;
  slot: SlotNameWire;
  item: ShopItem;
  money: MoneyFormatWire;
  /** This screen opened the customer's owner login: no PIN needed. */
  customerLoggedIn: boolean;
}) {
  const { api, ops, slot, item, money } = props;
  const [action, setAction] = useState<Action>(ACTIONS[slot][0]!.id);
  const [price, setPrice] = useState('');
  const [pin, setPin] = useState('');
  const [details, setDetails] = useState(item.body !== undefined ? bodyText(item.body) : '');
  const [ended, setEnded] = useState<Ended | undefined>();
  const amount = parseMoney(price, money);
  const needsPin = (action === 'sell' || action === 'take-back') && !props.customerLoggedIn;
  const customerPin = needsPin ? { customerPin: pin } : {};
  const ready =
    (action === 'sell' ? amount !== undefined && amount > 0 : true) &&
    (!needsPin || pin.length >= 4) &&
    (action !== 'change' || details.trim() !== '');

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!ready || ops.running) return;
    const call = () => {
      switch (action) {
        case 'sell':
          return api.call('items:sell', { itemId: item.id, price: amount ?? 0, ...customerPin });
        case 'give':
          return api.call('items:send', { itemId: item.id, from: 'payee' });
        case 'take-back':
          return api.call('items:send', { itemId: item.id, from: 'payer', ...customerPin });
        case 'change':
          return api.call('items:alter', { slot, itemId: item.id, bodyText: details });
      }
    };
    setEnded(await ops.run(call));
    setPin('');
  };

  return (
    <Modal id="item-dialog" title={item.label || 'Item'} busy={ops.running} onClose={ops.close}>
      <form onSubmit={(e) => void submit(e)}>
        <p className="muted">
          {item.type} on the {slot === 'payee' ? 'shop’s' : 'customer’s'} card
          {item.body !== undefined ? `: ${bodyText(item.body)}` : ''}
        </p>
        <fieldset className="choices">
          <legend>What to do</legend>
          {ACTIONS[slot].map((a) => (
            <label key={a.id}>
              <input
                type="radio"
                name="item-action"
                value={a.id}
                checked={action === a.id}
                onChange={() => {
                  setAction(a.id);
                  setEnded(undefined);
                }}
              />{' '}
              {a.label}
            </label>
          ))}
        </fieldset>
        <div className="field-grid">
          {action === 'sell' && (
            <>
              <label htmlFor="sell-price">Price ({money.currencyCode})</label>
              <input
                id="sell-price"
                inputMode="decimal"
                autoComplete="off"
                maxLength={16}
                placeholder={amountPlaceholder(money)}
                value={price}
                onChange={(e) => setPrice(e.target.value)}
              />
            </>
          )}
          {needsPin && (
            <>
              <label htmlFor="customer-pin">Customer’s PIN</label>
              <PinInput id="customer-pin" value={pin} onChange={setPin} />
            </>
          )}
          {action === 'change' && (
            <>
              <label htmlFor="item-details">New details</label>
              <input
                id="item-details"
                maxLength={200}
                autoComplete="off"
                value={details}
                onChange={(e) => setDetails(e.target.value)}
              />
            </>
          )}
        </div>
        {action === 'sell' && amount !== undefined && amount > 0 && (
          <p className="hint">
            The customer’s card pays {formatMoney(amount, money)}; the shop’s card gives the item, in one
            exchange.
          </p>
        )}
        <OutcomeLine ended={ended} what={WHAT[action]} testId="item-result" />
        <div className="row">
          <button type="submit" className="primary" disabled={ops.running || !ready}>
            {ops.running ? 'Working…' : BUTTON[action]}
          </button>
        </div>
      </form>
    </Modal>
  );
}
