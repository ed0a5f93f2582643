// End to end over a real pcscd with two vpcd readers: the terminal services (backend 'pcsc', readers
// named in terminal.json) move value between two simulated cards served through VpcdConnector. Key
// update by each route, a plain transfer, and the refusals, each of which leaves both cards exactly
// as they were. No timing assertions; every wait is bounded.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SettlementState } from '../../card-sim/applets/settlement/state.js';
import { publishCrl } from '../../card-sim/issuer/issuer.js';
import type { SlotName } from '../../electron/services/slots/reader-slots.js';
import { generateP256KeyPair } from '../../protocol/crypto-suite.js';
import { isTerminalError, type TerminalError } from '../../protocol/errors.js';
import { signTbs } from '../../protocol/pki/certificate.js';
import { parseCrl, toPem } from '../../protocol/pki/index.js';
import { KEY_ROUTE, type KeyRoute } from '../../protocol/settlement/commands.js';
import { SettlementClient } from '../../protocol/settlement/settlement-client.js';
import { unixSeconds } from '../../protocol/settlement/validity-date.js';
import { SW } from '../../protocol/status-words.js';
import {
  type PcscTerminal,
  runCli,
  startPcscTerminal,
  unsettledRecords,
  validityOf,
} from '../support/pcsc-terminal-fixture.js';

const DAY_MS = 86_400_000;
let t: PcscTerminal;

beforeAll(async () => {
  t = await startPcscTerminal({ waitingTimeMs: 2_000 });
  await t.startServices();
});

afterAll(async () => {
  await t?.stop();
});

const services = () => {
  const s = t.services;
  if (!s) throw new Error('terminal services are not running');
  return s;
};

const snapshot = (): Record<SlotName, SettlementState> => ({
  payer: t.state('payer'),
  payee: t.state('payee'),
});

function thrown(work: () => unknown): unknown {
  try {
    work();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

/** Nothing in flight and a sound log: true after every test here. */
function expectSettled() {
  const s = services();
  expect(s.engine.openTransfers()).toEqual([]);
  expect(s.engine.inDoubt()).toEqual([]);
  expect(s.journal.verify()).toMatchObject({ ok: true });
  for (const slot of ['payer', 'payee'] as const) expect(unsettledRecords(t.state(slot))).toBe(0);
}

describe('value transfer over pcscd', () => {
  it('runs a plain transfer with matching keys, every step journaled, balances on the cards', async () => {
    await t.setCards({ payer: { balance: 5_000 }, payee: { balance: 100 } });
    const outcome = await services().engine.transfer({ amount: 1_250 });
    expect(outcome).toMatchObject({ status: 'completed', amount: 1_250, keyUpdates: [] });
    // Read from the card files: the terminal may not see balances without the owner's session.
    expect(t.balances()).toEqual({ payer: 3_750, payee: 1_350 });
    const steps = services()
      .journal.entriesForFlow(outcome.flowId!)
      .map((e) => e.step);
    expect(steps).toEqual(['started', 'credit-initiated', 'debited', 'credited', 'completed']);
    expect(t.state('payer').debitLog.at(-1)?.status).toBe('acknowledged');
    expect(t.state('payee').creditLog.at(-1)?.status).toBe('credited');
    expectSettled();
  });

  it('sends 9 APDUs from cards just presented: SELECT and one extended GET CARD INFO per card (T=1), the five value commands', async () => {
    await t.setCards({ payer: { balance: 5_000 }, payee: { balance: 100 } });
    // Counted where the vpcd connector hands each command to the card.
    const sent: string[] = [];
    for (const slot of ['payer', 'payee'] as const) {
      const card = t.slot[slot].card;
      const transmit = card.transmit.bind(card);
      card.transmit = (apdu) => {
        sent.push(`${slot}: ${Buffer.from(apdu.subarray(0, 4)).toString('hex').toUpperCase()}`);
        return transmit(apdu);
      };
    }
    const outcome = await services().engine.transfer({ amount: 250 });
    expect(outcome).toMatchObject({ status: 'completed', keyUpdates: [] });
    expect(sent).toEqual([
      'payer: 00A40400', // SELECT
      'payer: 80100000', // GET CARD INFO, in one extended answer: no GET RESPONSE follows
      'payee: 00A40400',
      'payee: 80100000',
      'payer: 80300000', // INITIATE DEBIT
      'payee: 80320000', // INITIATE CREDIT
      'payer: 80340000', // DEBIT
      'payee: 80360000', // CREDIT
      'payer: 80380000', // ACKNOWLEDGE DEBIT
    ]);
    expect(t.balances()).toEqual({ payer: 4_750, payee: 350 });
    expectSettled();
  });

  it('with a reader configured as short-only, GET CARD INFO comes in parts chained by GET RESPONSE', async () => {
    const slots = t.config().slots;
    if (slots.backend !== 'pcsc') throw new Error('the e2e terminal uses PC/SC');
    t.writeConfig({ slots: { ...slots, extendedLength: false } });
    await t.startServices();
    try {
      await t.setCards({ payer: { balance: 5_000 }, payee: { balance: 100 } });
      const sent: string[] = [];
      for (const slot of ['payer', 'payee'] as const) {
        const card = t.slot[slot].card;
        const transmit = card.transmit.bind(card);
        card.transmit = (apdu) => {
          sent.push(`${slot}: ${Buffer.from(apdu).toString('hex').toUpperCase().slice(0, 10)}`);
          return transmit(apdu);
        };
      }
      expect(await services().engine.transfer({ amount: 250 })).toMatchObject({ status: 'completed' });
      const opened = (slot: string) => [
        `${slot}: 00A4040006`,
        `${slot}: 8010000000`, // Le 00: 256 bytes and 6100
        `${slot}: 00C0000000`, // GET RESPONSE: 256 bytes and 61XX
        expect.stringMatching(new RegExp(`^${slot}: 00C00000[0-9A-F]{2}$`)), // the rest (Le XX) and 9000
      ];
      expect(sent.slice(0, 8)).toEqual([...opened('payer'), ...opened('payee')]);
      expect(sent).toHaveLength(13);
      expectSettled();
    } finally {
      t.writeConfig({ slots });
      await t.startServices();
    }
  });

  const routes: [
    string,
    Parameters<PcscTerminal['setCards']>[0],
    { receiver: SlotName; route: string }[],
    Record<SlotName, { transferKeyId: number; updateKeyId: number }>,
  ][] = [
    [
      'key update by the common-key route (both cards hold update key 1)',
      { payer: { transferKeyId: 1 }, payee: { transferKeyId: 3 } },
      [{ receiver: 'payer', route: 'common-key' }],
      { payer: { transferKeyId: 3, updateKeyId: 1 }, payee: { transferKeyId: 3, updateKeyId: 1 } },
    ],
    [
      'key update by the public-key route (update keys differ), carrying the newer update key',
      { payer: { transferKeyId: 1, updateKeyId: 1 }, payee: { transferKeyId: 2, updateKeyId: 2 } },
      [{ receiver: 'payer', route: 'public-key' }],
      { payer: { transferKeyId: 2, updateKeyId: 2 }, payee: { transferKeyId: 2, updateKeyId: 2 } },
    ],
    [
      'key update by the pre-stored switch (the older card holds the key in advance)',
      { payer: { transferKeyId: 3 }, payee: { transferKeyId: 1, prestoredTransferKeyIds: [2, 3] } },
      [{ receiver: 'payee', route: 'pre-stored switch' }],
      { payer: { transferKeyId: 3, updateKeyId: 1 }, payee: { transferKeyId: 3, updateKeyId: 1 } },
    ],
    [
      'a card whose update key is older: two public-key steps',
      { payer: { transferKeyId: 2, updateKeyId: 1 }, payee: { transferKeyId: 1, updateKeyId: 2 } },
      [
        { receiver: 'payee', route: 'public-key' },
        { receiver: 'payer', route: 'public-key' },
      ],
      { payer: { transferKeyId: 2, updateKeyId: 2 }, payee: { transferKeyId: 2, updateKeyId: 2 } },
    ],
  ];

  it.each(routes)('%s, then the transfer', async (_name, cards, updates, keys) => {
    await t.setCards(cards);
    const before = t.balances();
    const outcome = await services().engine.transfer({ amount: 300 });
    expect(outcome).toMatchObject({ status: 'completed', keyUpdates: updates });
    expect(t.balances()).toEqual({ payer: before.payer - 300, payee: before.payee + 300 });
    for (const slot of ['payer', 'payee'] as const) expect(t.state(slot)).toMatchObject(keys[slot]);
    // Each key update is its own journaled flow that ended 'completed', with the route it took.
    if (outcome.status !== 'completed') throw new Error(outcome.status);
    for (const k of outcome.keyUpdates) {
      const entries = services().journal.entriesForFlow(k.flowId);
      expect(entries.map((e) => e.step)).toEqual(['planned', 'completed']);
      expect(entries[0]!.payload).toMatchObject({ route: k.route });
    }
    // The keys are in line now: nothing more to update.
    expect(await services().engine.updateKeys()).toEqual([]);
    expectSettled();
  });
});

describe('the terminal CLI over pcscd', () => {
  it('sees both cards and exits after a short command, several processes at once', async () => {
    // Regression: a PC/SC client closed right after listing its readers could leave the process
    // unable to exit, and a command acting at once saw every reader empty (pcsc-client.ts).
    // Four terminals at once, each on its own data folder (one running terminal per terminal state,
    // issue 13 §3), sharing the readers through pcscd.
    await t.stopServices();
    const configs = Array.from({ length: 4 }, (_, i) => {
      const file = join(dirname(t.configPath), `slots-${i}.json`);
      writeFileSync(file, JSON.stringify({ ...t.config(), dataDir: `slots-data-${i}` }));
      return file;
    });
    const runs = await Promise.all(
      configs.map((config) => runCli('terminal', ['slots', '--config', config, '--json'])),
    );
    await t.startServices();
    for (const run of runs) {
      expect(run.signal, run.stderr).toBeNull();
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual([
        expect.objectContaining({ slot: 'payer', reader: t.readers.payer, cardPresent: true }),
        expect.objectContaining({ slot: 'payee', reader: t.readers.payee, cardPresent: true }),
      ]);
    }
  });
});

describe('refusals over pcscd change nothing', () => {
  async function expectRefused(code: string, amount = 100): Promise<TerminalError> {
    const before = snapshot();
    const journalBefore = services().journal.verify();
    const outcome = await services().engine.transfer({ amount });
    expect(outcome.status).toBe('refused');
    if (outcome.status === 'completed') throw new Error('completed');
    expect(outcome.error.code).toBe(code);
    expect(outcome.keyUpdates).toEqual([]);
    // Balances, keys and logs: byte for byte what they were.
    expect(t.state('payer')).toEqual(before.payer);
    expect(t.state('payee')).toEqual(before.payee);
    // Refused before any value transfer began: no flow was started.
    expect(services().journal.verify()).toEqual(journalBefore);
    expectSettled();
    return outcome.error;
  }

  it('refuses an expired card', async () => {
    const yesterday = new Date(Date.now() - DAY_MS);
    await t.setCards({
      payer: { validity: validityOf(yesterday), now: new Date(Date.now() - 30 * DAY_MS) },
      payee: { transferKeyId: 2 }, // a key update would be due: it must not run either
    });
    const error = await expectRefused('E_CARD_EXPIRED');
    expect(error.details).toMatchObject({ slot: 'payer' });
    expect((await services().engine.readCard('payer')).expired).toBe(true);
  });

  it('refuses a revoked card (CRL from issuer-revoke imported); a forged CRL is refused at import and the old one stays in force', async () => {
    await t.setCards({ payer: {}, payee: { transferKeyId: 2 } });
    const crlFile = join(t.dir, 'revoked.crl');
    const revoke = await runCli('card', [
      'issuer-revoke',
      '--issuer',
      t.issuerPath,
      '--card',
      t.slot.payee.file,
    ]);
    expect(revoke.code, revoke.stderr).toBe(0);
    const publish = await runCli('card', ['issuer-crl', '--issuer', t.issuerPath, '--out', crlFile]);
    expect(publish.code, publish.stderr).toBe(0);

    const imported = services().crl.importFile(crlFile);
    expect(imported).toMatchObject({ state: 'fresh', source: 'file', revokedCount: 1 });
    const error = await expectRefused('E_PKI_REVOKED');
    expect(error.details).toMatchObject({ slot: 'payee' });
    expect((await services().engine.readCard('payee')).certificate.status).toBe('revoked');

    // The forgery: a genuine-looking CRL (same issuer name and key identifier, a newer number) that
    // revokes nothing, signed with an attacker's key.
    const issuer = t.issuer();
    const unrevoked = { ...issuer, revoked: [], nextCrlNumber: issuer.nextCrlNumber + 5 };
    const forged = signTbs(parseCrl(publishCrl(unrevoked)).tbsDer, generateP256KeyPair().privateKey);
    expect(parseCrl(forged).crlNumber).toBeGreaterThan(BigInt(imported.crlNumber!));
    const crl = services().crl;
    expect(thrown(() => crl.importDer(forged, 'file'))).toMatchObject({ code: 'E_PKI_SIGNATURE' });
    const forgedFile = join(t.dir, 'forged.crl');
    writeFileSync(forgedFile, toPem('X509 CRL', forged));
    expect(thrown(() => crl.importFile(forgedFile))).toMatchObject({ code: 'E_PKI_SIGNATURE' });
    expect(crl.status()).toMatchObject({ crlNumber: imported.crlNumber, revokedCount: 1, source: 'file' });
    await expectRefused('E_PKI_REVOKED');

    // The same through the terminal CLI (a separate process on the same terminal.json and log).
    await t.stopServices();
    const cli = await runCli('terminal', ['crl-import', forgedFile, '--config', t.configPath]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/^error E_PKI_SIGNATURE: /);
    await t.startServices();
    expect(services().crl.status()).toMatchObject({ crlNumber: imported.crlNumber, revokedCount: 1 });
  });

  it('refuses under the refuse policy when the only CRL is stale', async () => {
    await t.setCards({ payer: {}, payee: {} });
    const tenDaysAgo = new Date(Date.now() - 10 * DAY_MS);
    await t.startServices({
      freshData: true,
      builtinCrl: publishCrl(t.issuer(), { now: tenDaysAgo, validityDays: 7 }),
      expiredPolicy: 'refuse',
    });
    expect(services().crl.status()).toMatchObject({ state: 'stale', source: 'builtin' });
    await expectRefused('E_CRL_STALE');
    expect((await services().engine.readCard('payer')).certificate.status).toBe('crl-stale');
    // With a current CRL the same cards are accepted again.
    await t.startServices({ freshData: true });
    expect(await services().engine.transfer({ amount: 1 })).toMatchObject({ status: 'completed' });
  });

  describe('an older key offered to a card directly over the PC/SC channel', () => {
    const offers: [string, KeyRoute][] = [
      ['common-key', KEY_ROUTE.COMMON_KEY],
      ['public-key', KEY_ROUTE.PUBLIC_KEY],
      ['pre-stored switch', KEY_ROUTE.PRESTORED_SWITCH],
    ];

    beforeAll(async () => {
      // The payee (receiver) is newer on both keys than the payer (sender).
      await t.setCards({
        payer: { transferKeyId: 1, updateKeyId: 1 },
        payee: { transferKeyId: 3, updateKeyId: 1, prestoredTransferKeyIds: [4] },
      });
    });

    it.each(offers)(
      '%s route: APPLY KEY UPDATE answers 6984 and the receiver keeps its keys',
      async (_n, route) => {
        const before = snapshot();
        const slots = services().slots;
        const payerChannel = await slots.connect('payer');
        const payeeChannel = await slots.connect('payee');
        try {
          const sender = new SettlementClient(payerChannel);
          const receiver = new SettlementClient(payeeChannel);
          await sender.select();
          await receiver.select();
          const senderInfo = await sender.getCardInfo();
          const receiverInfo = await receiver.getCardInfo();
          expect(senderInfo.transferKeyId).toBeLessThan(receiverInfo.transferKeyId);
          const date = unixSeconds(new Date());
          const isPublic = route === KEY_ROUTE.PUBLIC_KEY;
          const random = await receiver.beginKeyUpdate(
            route,
            date,
            isPublic ? senderInfo.certificate : undefined,
          );
          const exported = await sender.exportTransferKey(
            route,
            date,
            random,
            isPublic ? receiverInfo.certificate : receiverInfo.holderId,
          );
          let refusal: unknown;
          try {
            await receiver.applyKeyUpdate(route, exported);
          } catch (e) {
            refusal = e;
          }
          expect(isTerminalError(refusal, 'E_CARD_STATUS')).toBe(true);
          expect((refusal as TerminalError).details).toMatchObject({ sw: SW.REFERENCE_DATA_NOT_USABLE });
          const after = await receiver.getCardInfo();
          expect(after.transferKeyId).toBe(receiverInfo.transferKeyId);
          expect(after.updateKeyId).toBe(receiverInfo.updateKeyId);
        } finally {
          await payerChannel.close();
          await payeeChannel.close();
        }
        expect(t.state('payer')).toEqual(before.payer);
        expect(t.state('payee')).toEqual(before.payee);
      },
    );

    it('the terminal itself never offers the older key: it updates the older card instead', async () => {
      const outcome = await services().engine.transfer({ amount: 10 });
      expect(outcome).toMatchObject({ status: 'completed', keyUpdates: [{ receiver: 'payer' }] });
      expect(t.state('payee')).toMatchObject({ transferKeyId: 3, updateKeyId: 1 });
      expect(t.state('payer')).toMatchObject({ transferKeyId: 3 });
      expectSettled();
    });
  });
});
