// Issue 13 §2 through the terminal: a payment the payer card makes only with its holder's PIN is
// refused before any APDU that changes a card (E_PIN_REQUIRED, naming the slot; E_PIN_BLOCKED with a
// blocked PIN), and runs after a login with no more APDUs than a payment that needed none. A reader
// without the PIN learns the balance by INITIATE DEBIT probes only up to the no-PIN allowance.
import { describe, expect, it } from 'vitest';
import { InProcessChannel } from '../../card-sim/transport/in-process-channel.js';
import { isTerminalError } from '../../protocol/errors.js';
import { DEFAULT_NO_PIN_LIMITS } from '../../protocol/settlement/cardholder-policy.js';
import { SettlementClient } from '../../protocol/settlement/settlement-client.js';
import { SW } from '../../protocol/status-words.js';
import { TEST_CURRENCY, TEST_PIN } from '../support/card-fixtures.js';
import { makeTerminal, TERMINAL_NOW, type TerminalUnderTest } from '../support/terminal-fixtures.js';

const OVER = DEFAULT_NO_PIN_LIMITS.perPayment + 1;

function images(t: TerminalUnderTest) {
  return [t.cards.payer.store.read(), t.cards.payee.store.read()];
}

/** Counts the APDUs both cards receive. */
function apduCounter(t: TerminalUnderTest): () => number {
  let n = 0;
  for (const card of [t.cards.payer.os, t.cards.payee.os]) {
    const transmit = card.transmit.bind(card);
    card.transmit = (apdu) => {
      n++;
      return transmit(apdu);
    };
  }
  return () => n;
}

describe('spending under the cardholder’s PIN (issue 13 §2)', () => {
  it('asks for the PIN before anything changes a card, then pays after the login', async () => {
    const t = makeTerminal({ payer: { balance: 10_000 }, payee: { balance: 0 } });
    const before = images(t);
    const refused = await t.engine.transfer({ amount: OVER });
    expect(refused).toMatchObject({
      status: 'refused',
      keyUpdates: [],
      error: { code: 'E_PIN_REQUIRED', details: { slot: 'payer', amount: OVER } },
    });
    expect(refused).not.toHaveProperty('flowId');
    expect(t.flows.openFlows()).toEqual([]);
    expect(t.journal.page({ limit: 10 }).records).toEqual([]);
    expect(images(t)).toEqual(before);

    await t.engine.login('payer', TEST_PIN);
    expect(await t.engine.transfer({ amount: OVER })).toMatchObject({ status: 'completed' });
    expect(t.balances()).toEqual({ payer: 10_000 - OVER, payee: OVER });
  });

  it('a payment after the login sends no more APDUs than one that needed no PIN, but the balance it shows', async () => {
    const t = makeTerminal({ payer: { balance: 10_000 }, payee: { balance: 0 } });
    await t.engine.readCard('payer'); // the sessions are open and current in both cases
    await t.engine.readCard('payee');
    const apdus = apduCounter(t);
    const plain = await t.engine.transfer({ amount: 100 });
    const withoutPin = apdus();
    expect(withoutPin).toBe(5); // the five value commands: the card info is the session's
    expect(plain).toMatchObject({ status: 'completed', balances: { payer: undefined, payee: undefined } });
    await t.engine.login('payer', TEST_PIN);
    await t.engine.readCard('payee');
    const afterLogin = apdus();
    const paid = await t.engine.transfer({ amount: OVER });
    // One more: the logged-in card grants its balance, and the outcome shows it.
    expect(apdus() - afterLogin).toBe(withoutPin + 1);
    expect(paid).toMatchObject({ status: 'completed', balances: { payer: 10_000 - 100 - OVER } });
  });

  it('counts payments without the PIN: the fourth asks for it', async () => {
    const t = makeTerminal({ payer: { balance: 10_000 }, payee: { balance: 0 } });
    for (let i = 0; i < DEFAULT_NO_PIN_LIMITS.consecutive; i++)
      expect(await t.engine.transfer({ amount: 100 })).toMatchObject({ status: 'completed' });
    expect(await t.engine.transfer({ amount: 100 })).toMatchObject({
      status: 'refused',
      error: { code: 'E_PIN_REQUIRED' },
    });
    expect(t.balances().payer).toBe(10_000 - 300);
  });

  it('with a blocked PIN a payment that needs it is refused at once (E_PIN_BLOCKED), and nothing changes', async () => {
    const t = makeTerminal({ payer: { balance: 10_000 }, payee: { balance: 0 } });
    for (let i = 0; i < 3; i++) await t.engine.login('payer', '9999').catch(() => undefined);
    await expect(t.engine.login('payer', TEST_PIN)).rejects.toMatchObject({ code: 'E_PIN_BLOCKED' });
    const before = images(t);
    expect(await t.engine.transfer({ amount: OVER })).toMatchObject({
      status: 'refused',
      error: { code: 'E_PIN_BLOCKED', details: { slot: 'payer' } },
    });
    expect(images(t)).toEqual(before);
    // Within the allowance payments go on until it is used up (protocol §4.6), then nothing.
    for (let i = 0; i < DEFAULT_NO_PIN_LIMITS.consecutive; i++)
      expect(await t.engine.transfer({ amount: 100 })).toMatchObject({ status: 'completed' });
    expect(await t.engine.transfer({ amount: 1 })).toMatchObject({
      status: 'refused',
      error: { code: 'E_PIN_BLOCKED' },
    });
  });

  it('32 INITIATE DEBIT probes without the PIN read the balance only up to the no-PIN allowance', async () => {
    const t = makeTerminal({ payer: { balance: 12_345 }, payee: { balance: 0 } });
    t.slots.remove('payer');
    const before = t.cards.payer.store.read();
    const reader = new SettlementClient(await InProcessChannel.connect(t.cards.payer.os));
    await reader.select();
    const payee = { counterpartId: Buffer.from(t.cards.payee.store.read().holderId, 'hex') };
    // Binary search on "can it pay this much?": 9000 yes, 9401 no, 9403 "needs the PIN".
    let low = 0;
    let high = 0xffffffff;
    for (let probe = 0; probe < 32; probe++) {
      const mid = Math.floor((low + high + 1) / 2);
      const yes = await reader
        .initiateDebit({
          ...payee,
          currency: TEST_CURRENCY,
          amount: mid,
          date: TERMINAL_NOW.getTime() / 1000,
        })
        .then(
          () => true,
          (e: unknown) => {
            if (!isTerminalError(e, 'E_CARD_STATUS')) throw e;
            expect([SW.INSUFFICIENT_FUNDS, SW.CARDHOLDER_VERIFICATION_REQUIRED]).toContain(e.details.sw);
            return false;
          },
        );
      if (yes) low = mid;
      else high = mid - 1;
    }
    // All it learns: the balance is at least the allowance (25.00), not that it is 123.45.
    expect(low).toBe(DEFAULT_NO_PIN_LIMITS.perPayment);
    const after = t.cards.payer.store.read();
    expect(after.balance).toBe(before.balance);
    expect(after.cardholderPolicy).toEqual(before.cardholderPolicy);
  });
});
