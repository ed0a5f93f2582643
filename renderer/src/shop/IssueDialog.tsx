// Issue a ticket or coupon on the shop's issuer card (payee slot), under a create right the terminal
// asks of the issuer's authority: its type, its public label, and its body (a seat, a code).
import { type FormEvent, useState } from 'react';
import { Modal } from '../components/Modal.js';
import type { TerminalApi } from '../terminal-api.js';
import { OutcomeLine } from './OutcomeLine.js';
import type { Ended, ShopOperations } from './useShopOperations.js';

export function IssueDialog({ api, ops }: { api: TerminalApi; ops: ShopOperations }) {
  const [type, setType] = useState<'ticket' | 'coupon'>('ticket');
  const [label, setLabel] = useState('');
  const [body, setBody] = useState('');
  const [ended, setEnded] = useState<Ended | undefined>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!label.trim() || ops.running) return;
    setEnded(
      await ops.run(() =>
        api.call('items:issue', { type, label: label.trim(), ...(body ? { bodyText: body } : {}) }),
      ),
    );
  };
  return (
    <Modal id="issue-dialog" title="Issue a ticket or coupon" busy={ops.running} onClose={ops.close}>
      <form onSubmit={(e) => void submit(e)}>
        <p>On the shop’s card (payee slot), under a create right from the issuer’s authority.</p>
        <div className="field-grid">
          <label htmlFor="issue-type">Type</label>
          <select
            id="issue-type"
            value={type}
            onChange={(e) => setType(e.target.value as 'ticket' | 'coupon')}
          >
            <option value="ticket">Ticket (the issuer may change its seat)</option>
            <option value="coupon">Coupon (anyone may read it)</option>
          </select>
          <label htmlFor="issue-label">Label</label>
          <input
            id="issue-label"
            maxLength={48}
            autoComplete="off"
            value={label}
            onChange={(e) => setLabel(e.target.value)}
          />
          <label htmlFor="issue-body">Details</label>
          <input
            id="issue-body"
            maxLength={200}
            autoComplete="off"
            placeholder="seat B12"
            value={body}
            onChange={(e) => setBody(e.target.value)}
          />
        </div>
        <OutcomeLine ended={ended} what="Issue" testId="issue-result" />
        <div className="row">
          <button type="submit" className="primary" disabled={ops.running || !label.trim()}>
            {ops.running ? 'Issuing…' : 'Issue'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
