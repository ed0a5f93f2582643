// Versions (docs/protocol.md §3, §4.1, §11): a version-1 card file is refused on open with a typed
// error and migrated with every record, key and proof kept; a version-1 card is named and refused by
// the client before anything else is sent; GET CARD INFO arrives in ⌈n/256⌉ parts with a short Le
// and in one answer with an extended Le.
import { describe, expect, it } from 'vitest';
import { type SettlementState, settlementStateCodec } from '../../card-sim/applets/settlement/state.js';
import { migrateCardImage } from '../../card-sim/applets/settlement/state-migration.js';
import type { Applet } from '../../card-sim/os/applet.js';
import { CardOS } from '../../card-sim/os/card-os.js';
import { MemoryBackend } from '../../card-sim/os/persistence-backend.js';
import { createSettlementCard } from '../../card-sim/settlement-card.js';
import { InProcessChannel } from '../../card-sim/transport/in-process-channel.js';
import { concat, fromHex, toHex } from '../../protocol/bytes.js';
import { isTerminalError } from '../../protocol/errors.js';
import {
  DEFAULT_NO_PIN_LIMITS,
  PIN_FOR_EVERY_PAYMENT,
  PIN_STATE,
} from '../../protocol/settlement/cardholder-policy.js';
import { APPLET_VERSION, SETTLEMENT_AID_V1 } from '../../protocol/settlement/commands.js';
import { SettlementClient } from '../../protocol/settlement/settlement-client.js';
import { CardStatusError } from '../../protocol/status-words.js';
import { makeCard, makePair, NOW, TEST_CURRENCY, type TestCard, transfer } from '../support/card-fixtures.js';

/** The image a version-1 card would have stored for this state (version 1 knew no cardholder policy). */
function asVersion1(state: SettlementState): string {
  const { cardholderPolicy: _policy, ...rest } = state;
  return `${JSON.stringify({ ...rest, format: 1 }, null, 1)}\n`;
}

async function rejection(work: () => unknown): Promise<unknown> {
  try {
    await work();
  } catch (e) {
    return e;
  }
  throw new Error('expected a refusal');
}

describe('version-1 card files', () => {
  it('are refused on open with E_CARD_VERSION, never read as version 2', async () => {
    const card = await makeCard();
    const v1 = asVersion1(card.state());
    const error = await rejection(() => createSettlementCard({ backend: new MemoryBackend(v1) }));
    expect(isTerminalError(error, 'E_CARD_VERSION'), String(error)).toBe(true);
    expect(String((error as Error).message)).toContain('npm run card -- migrate');
    const newer = await rejection(() =>
      createSettlementCard({ backend: new MemoryBackend(JSON.stringify({ ...card.state(), format: 3 })) }),
    );
    expect(isTerminalError(newer, 'E_CARD_VERSION')).toBe(true);
  });

  it('are migrated with every record, key, proof and counter kept, and the policy added', async () => {
    const { a, b } = await makePair({ balance: 5000 }, { balance: 100 });
    await transfer(a, b, 700); // settled records with their proofs
    // A pending credit version 1 accepted (here made under version 2, then carried back).
    const debit = await a.client.initiateDebit({
      counterpartId: b.holderId,
      currency: TEST_CURRENCY,
      amount: 40,
      date: NOW,
    });
    const credit = await b.client.initiateCredit(
      { counterpartId: a.holderId, currency: TEST_CURRENCY, amount: 40, date: NOW },
      debit,
    );
    await a.client.debit(debit.txRandom, credit.rxRandom, credit.challenge);
    await a.client.verifyPin('0000').catch(() => undefined); // a spent try survives the migration
    const [va, vb] = [asVersion1(a.state()), asVersion1(b.state())];

    const ma = migrateCardImage(va);
    expect(ma.migrated).toBe(true);
    const { cardholderPolicy, ...kept } = ma.state;
    const { cardholderPolicy: _, ...original } = a.state();
    expect(kept).toEqual({ ...original, format: 2 });
    expect(cardholderPolicy).toEqual({ ...PIN_FOR_EVERY_PAYMENT, noPinTotal: 0, noPinCount: 0 });
    expect(ma.state.owner!.tries).toBe(2);
    const mb = migrateCardImage(vb, DEFAULT_NO_PIN_LIMITS);
    expect(mb.state.cardholderPolicy).toMatchObject(DEFAULT_NO_PIN_LIMITS);
    expect(migrateCardImage(settlementStateCodec.encode(mb.state))).toMatchObject({ migrated: false });

    // The migrated cards work as version 2: the pending credit can be released and paid back.
    const open = async (state: SettlementState) => {
      const sim = createSettlementCard({ backend: new MemoryBackend(settlementStateCodec.encode(state)) });
      const client = new SettlementClient(await InProcessChannel.connect(sim.os));
      await client.select();
      return { sim, client };
    };
    const [payer, payee] = [await open(ma.state), await open(mb.state)];
    expect((await payer.client.getCardInfo()).pin).toMatchObject({
      state: PIN_STATE.SET,
      noPinAmountLeft: 0,
    });
    const proof = await payee.client.releaseCredit(debit.txRandom);
    await payer.client.refundDebit(debit.txRandom, credit.rxRandom, proof);
    expect([payer.sim.store.read().balance, payee.sim.store.read().balance]).toEqual([4300, 800]);
  });

  it('refuses an image that is neither version 1 nor 2, or a damaged one, with a typed error', () => {
    for (const image of [
      'not json',
      '[]',
      JSON.stringify({ format: 7 }),
      JSON.stringify({ format: 1, holderId: 'x' }),
    ]) {
      const error = (() => {
        try {
          migrateCardImage(image);
        } catch (e) {
          return e;
        }
      })();
      expect(isTerminalError(error), image).toBe(true);
    }
  });
});

/** A card with only the version-1 application (what a card issued before version 2 carries). */
class Version1Applet implements Applet {
  readonly aid = SETTLEMENT_AID_V1;
  commands = 0;
  select(): void {}
  clearTransient(): void {}
  process(): Uint8Array {
    this.commands++;
    throw new CardStatusError(0x6d00);
  }
}

describe('a version-1 card in the reader', () => {
  it('is named and refused (E_CARD_VERSION) by SELECT, and gets no other command', async () => {
    const applet = new Version1Applet();
    const os = new CardOS({ atr: fromHex('3B00'), applets: [applet] });
    const client = new SettlementClient(await InProcessChannel.connect(os));
    const error = await rejection(() => client.select());
    expect(isTerminalError(error, 'E_CARD_VERSION'), String(error)).toBe(true);
    expect(applet.commands).toBe(0);
    // A card with no settlement application at all: the SELECT refusal itself.
    const empty = new SettlementClient(
      await InProcessChannel.connect(new CardOS({ atr: fromHex('3B00'), applets: [] })),
    );
    expect(await rejection(() => empty.select())).toMatchObject({
      code: 'E_CARD_STATUS',
      details: { sw: 0x6a82 },
    });
  });

  it('a version-2 card does not answer the version-1 AID', async () => {
    const card = await makeCard();
    const raw = (hex: string) => toHex(card.sim.os.transmit(fromHex(hex)));
    expect(raw(`00A4040006${toHex(SETTLEMENT_AID_V1)}`)).toBe('6A82');
  });
});

describe('GET CARD INFO chaining (§4.1)', () => {
  it('comes in ⌈n/256⌉ parts with a short Le and in one answer with an extended Le', async () => {
    const card: TestCard = await makeCard();
    const os = card.sim.os;
    const first = os.transmit(fromHex('8010000000'));
    expect(toHex(first.slice(-2))).toBe('6100');
    const parts = [first.slice(0, -2)];
    let last = first;
    while (toHex(last.slice(-2)).startsWith('61')) {
      last = os.transmit(fromHex('00C0000000'));
      parts.push(last.slice(0, -2));
    }
    expect(toHex(last.slice(-2))).toBe('9000');
    const whole = concat(...parts);
    expect(parts).toHaveLength(Math.ceil(whole.length / 256));
    expect(parts.length).toBe(3); // a typical card: about 540 bytes
    const extended = os.transmit(fromHex('80100000000000'));
    expect(toHex(extended.slice(-2))).toBe('9000');
    expect(extended.slice(0, -2)).toEqual(whole);

    // The client asks for the extended answer when its reader allows it: one APDU.
    const channel = await InProcessChannel.connect(os);
    const sent: string[] = [];
    const transmit = channel.transmit.bind(channel);
    channel.transmit = (apdu, o) => {
      sent.push(toHex(apdu));
      return transmit(apdu, o);
    };
    const client = new SettlementClient(channel, undefined, { extendedLength: true });
    await client.select();
    const info = await client.getCardInfo();
    expect(info.appletVersion).toBe(APPLET_VERSION);
    expect(sent).toEqual([expect.stringMatching(/^00A4/), '80100000000000']);
  });
});
