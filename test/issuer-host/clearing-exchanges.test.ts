// The e-money leg of a content exchange at clearing (docs/content-clearing.md), on
// both backends. Honest path: real simulated cards buy a ticket through the content engine; the
// terminal's journal is uploaded and the leg is booked pending → post (or pending → void when a card
// refused and recovery rolled it back), once however many terminals journaled the exchange, and an
// exchange left in doubt becomes a refund case. Adversary: a registered terminal that journals, well
// chained, an exchange no card made (a random signature, a genuine exchange re-termed, a certificate of
// another card or of another CA): each refused whole with E_UPLOAD_PROOF, one clearing.proof alert,
// and no row of clearing or the ledger changed, with or without the clearing key set.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JournalRecord } from '../../db/journal.js';
import type { HostDatabase } from '../../issuer-host/db/host-database.js';
import { fleetReport } from '../../issuer-host/ledger/fleet-report.js';
import { toHex } from '../../protocol/bytes.js';
import { INS } from '../../protocol/settlement/commands.js';
import { arm, type Fault, presentAgain } from '../support/card-faults.js';
import { makeTerminal } from '../support/terminal-fixtures.js';
import { removeTestJournals } from './clearing-fixtures.js';
import {
  balanceOf,
  batchOf,
  ContentClearingHost,
  caseInDoubt,
  certificateOf,
  copyFlow,
  legs,
  proofAlerts,
  rand,
  seqIn,
  settle,
  ticketShop,
} from './content-clearing-fixtures.js';
import { BACKENDS, useHostDatabases } from './host-db-fixtures.js';

const dbs = useHostDatabases();
afterAll(() => removeTestJournals());

describe.each(BACKENDS)('exchange legs at clearing on %s', (backend) => {
  let db: HostDatabase;
  let clearing: ContentClearingHost;
  let shop: Awaited<ReturnType<typeof ticketShop>>;
  const upload: ContentClearingHost['upload'] = (terminalId, batch) => clearing.upload(terminalId, batch);
  const hostile = () => clearing.journal();

  beforeEach(async () => {
    db = await dbs.fresh(backend);
    shop = await ticketShop();
    clearing = await ContentClearingHost.open(db, shop.t.issuer);
  });
  afterEach(() => clearing.close());

  it('books a ticket bought with e-money pending → post, once across two terminals, and reports it apart', async () => {
    expect(await shop.buy(1_500)).toMatchObject({ status: 'completed' });
    const flow = shop.t.journal.entriesForFlow(shop.t.flows.all().at(-1)!.flowId);
    expect(flow[0]!.payload).toHaveProperty('initiatorCertificate');
    expect(flow.find((e) => e.step === 'second-received')!.payload).toHaveProperty('secondDigest');
    const answer = await upload('till-1', batchOf(shop.t));
    expect(answer.accepted).toBeGreaterThan(0);
    const firstTxId = String(flow.find((e) => e.step === 'first-sent')!.payload.firstTxId);
    const key = `${shop.ids.customer}:${firstTxId}`;
    expect(await legs(db)).toEqual([
      { transfer_key: key, phase: 'pending', amount: 1_500n, kind: 'exchange-leg' },
      { transfer_key: key, phase: 'post', amount: 1_500n, kind: 'exchange-leg' },
    ]);
    expect(await balanceOf(db, 'card', shop.ids.customer)).toBe(-1_500n);
    expect(await balanceOf(db, 'card', shop.ids.shop)).toBe(1_500n);
    expect(await balanceOf(db, 'in-flight', 'shop-1')).toBe(0n);

    // The same exchange as another terminal journaled it (recovered there): still one leg.
    const j = hostile();
    copyFlow(j, flow);
    await upload('till-2', j.batch());
    expect(await legs(db)).toHaveLength(2);
    const [flows] = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM ledger_transfer_flows WHERE transfer_key = $1',
      [key],
    );
    expect(flows!.n).toBe(2);
    expect(await proofAlerts(db)).toEqual([]);

    const day = await fleetReport(db, { from: new Date(0), to: new Date('2100-01-01') });
    expect(day.issuer[0]!.posted.count).toBe(0); // value transfers: none
    expect(day.issuer[0]!.exchanges.posted).toEqual({ count: 1, amount: 1_500n });
  });

  it('books the reverse sale too: the shop card gives its ticket first, the customer pays the second half', async () => {
    const item = shop.t.cards.payee.store.read().contents[0]!;
    expect(
      await shop.contents.exchange({ initiator: 'payee', give: { itemId: item.id }, take: { amount: 900 } }),
    ).toMatchObject({ status: 'completed' });
    const flow = shop.t.journal.entriesForFlow(shop.t.flows.all().at(-1)!.flowId);
    expect(flow.find((e) => e.step === 'first-received')!.payload).toHaveProperty('firstDigest');
    await upload('till-1', batchOf(shop.t));
    const secondTxId = String(flow.find((e) => e.step === 'second-sent')!.payload.secondTxId);
    expect(await legs(db)).toEqual([
      {
        transfer_key: `${shop.ids.customer}:${secondTxId}`,
        phase: 'pending',
        amount: 900n,
        kind: 'exchange-leg',
      },
      {
        transfer_key: `${shop.ids.customer}:${secondTxId}`,
        phase: 'post',
        amount: 900n,
        kind: 'exchange-leg',
      },
    ]);
    expect(await balanceOf(db, 'card', shop.ids.shop)).toBe(900n);
  });

  it('voids the leg of an exchange a card refused and recovery rolled back, on the abort proof', async () => {
    await clearing.close();
    db = await dbs.fresh(backend);
    shop = await ticketShop({ maxBalance: 1_000 }); // the shop card cannot take 1,500: RECEIVE refuses
    clearing = await ContentClearingHost.open(db, shop.t.issuer);
    expect(await shop.buy(1_500)).toMatchObject({ status: 'rolled-back' });
    await upload('till-1', batchOf(shop.t));
    expect((await legs(db)).map((l) => l.phase)).toEqual(['pending', 'void']);
    expect(await balanceOf(db, 'card', shop.ids.customer)).toBe(0n);
    expect(await balanceOf(db, 'in-flight', 'shop-1')).toBe(0n);
  });

  it('an exchange left in doubt becomes a refund case with its proofs; a card completing it later wins', async () => {
    expect(await shop.buy(1_500)).toMatchObject({ status: 'completed' });
    const flow = shop.t.journal.entriesForFlow(shop.t.flows.all().at(-1)!.flowId);
    const committed = flow.find((e) => e.step === 'first-committed')!.seq;
    await upload('till-1', batchOf(shop.t, committed)); // stopped after the commit: in doubt
    expect((await legs(db)).map((l) => l.phase)).toEqual(['pending']);
    const c = await caseInDoubt(db);
    expect(c).toMatchObject({ payerId: shop.ids.customer, amount: 1_500n });
    expect(c.proofs.map((p) => (p as { step: string }).step)).toContain('first-committed');
    await upload('till-1', batchOf(shop.t)); // the rest: the responder accepted
    expect((await legs(db)).map((l) => l.phase)).toEqual(['pending', 'post']);
    await expect(settle(db, c)).rejects.toMatchObject({ code: 'E_CONFLICT' });
  });

  it('settles a refund case of an exchange leg with a void of that leg', async () => {
    expect(await shop.buy(700)).toMatchObject({ status: 'completed' });
    const flow = shop.t.journal.entriesForFlow(shop.t.flows.all().at(-1)!.flowId);
    await upload('till-1', batchOf(shop.t, flow.find((e) => e.step === 'first-committed')!.seq));
    await settle(db, await caseInDoubt(db));
    expect((await legs(db)).map((l) => [l.phase, l.kind])).toEqual([
      ['pending', 'exchange-leg'],
      ['void', 'exchange-leg'],
    ]);
    expect(await balanceOf(db, 'card', shop.ids.customer)).toBe(0n);
  });

  // The exchange interrupted at each of its content commands (the card acted and its answer was lost,
  // or it never got the command), settled by recovery with both cards: the host books what the cards did.
  const commands: [string, number, 'payer' | 'payee'][] = [
    ['X SEND', INS.CONTENT_SEND, 'payer'],
    ['X RECEIVE', INS.CONTENT_RECEIVE, 'payee'],
    ['Y SEND', INS.CONTENT_SEND, 'payee'],
    ['Y RECEIVE', INS.CONTENT_RECEIVE, 'payer'],
    ['X COMMIT', INS.CONTENT_COMMIT, 'payer'],
    ['X ACCEPT', INS.CONTENT_ACCEPT, 'payee'],
    ['Y ACCEPT', INS.CONTENT_ACCEPT, 'payer'],
    ['Y ACKNOWLEDGE', INS.CONTENT_ACKNOWLEDGE, 'payee'],
  ];
  const faults: Fault[] = ['pulled-after', 'timeout-before-card'];
  it.each(commands.flatMap(([name, ins, slot]) => faults.map((f) => [name, f, ins, slot] as const)))(
    'interrupted at %s (%s) and recovered: the ledger holds what the cards hold',
    async (_name, fault, ins, slot) => {
      arm(shop.t, slot, ins, fault);
      expect(await shop.buy(1_500)).toMatchObject({ status: 'interrupted' });
      presentAgain(shop.t);
      await shop.contents.recover();
      expect(shop.contents.openFlows()).toEqual([]);
      await upload('till-1', batchOf(shop.t));
      const { payer, payee } = shop.t.balances();
      expect(await balanceOf(db, 'card', shop.ids.customer)).toBe(BigInt(payer - 5_000));
      expect(await balanceOf(db, 'card', shop.ids.shop)).toBe(BigInt(payee));
      expect(await balanceOf(db, 'in-flight', 'shop-1')).toBe(0n);
      const phases = (await legs(db)).map((l) => l.phase);
      expect([[], ['pending', 'void'], ['pending', 'post']]).toContainEqual(phases);
      expect(phases.includes('post')).toBe(payee === 1_500);
      expect(await db.query('SELECT * FROM ledger_exceptions')).toEqual([]);
      expect(await proofAlerts(db)).toEqual([]);
    },
  );

  describe('refuses evidence no card made, whole, changing nothing', () => {
    let genuine: JournalRecord[];
    beforeEach(async () => {
      expect(await shop.buy(1_500)).toMatchObject({ status: 'completed' });
      genuine = shop.t.journal.entriesForFlow(shop.t.flows.all().at(-1)!.flowId);
      await upload('till-1', batchOf(shop.t)); // the honest terminal's bookings are there to be kept
    });

    it('(a) an invented exchange whose commit instruction is random bytes', async () => {
      const j = hostile();
      const flowId = copyFlow(j, genuine.slice(0, 2)); // started (genuine certificates), first-sent
      j.journal.append({
        flowId,
        flowKind: 'content-exchange',
        step: 'first-received',
        payload: { firstCommit: rand(70) },
      });
      await clearing.expectRefused(j.batch(), {
        seq: seqIn(j, flowId, 'first-received'),
        step: 'first-received',
        proof: 'firstCommit',
      });
    });

    it('(b) the genuine exchange with its amount raised', async () => {
      const j = hostile();
      const flowId = copyFlow(j, genuine, (step, p) =>
        step === 'started' ? { ...p, give: { ...(p.give as object), amount: 150_000 } } : p,
      );
      await clearing.expectRefused(j.batch(), {
        seq: seqIn(j, flowId, 'first-received'),
        step: 'first-received',
        proof: 'firstCommit',
      });
    });

    it('(c) the genuine exchange sold to another card (its own certificate journaled)', async () => {
      const other = makeTerminal({ issuer: shop.t.issuer });
      const otherId = other.cards.payer.store.read().holderId;
      const otherCert = toHex(certificateOf(other));
      const j = hostile();
      const flowId = copyFlow(j, genuine, (step, p) =>
        step === 'started' ? { ...p, initiatorId: otherId, initiatorCertificate: otherCert } : p,
      );
      await clearing.expectRefused(j.batch(), {
        seq: seqIn(j, flowId, 'first-received'),
        step: 'first-received',
        proof: 'firstCommit',
      });
    });

    it('(d) a certificate of another card under the initiator’s holder ID', async () => {
      const j = hostile();
      const flowId = copyFlow(j, genuine, (step, p) =>
        step === 'started' ? { ...p, initiatorCertificate: p.responderCertificate } : p,
      );
      await clearing.expectRefused(j.batch(), {
        seq: seqIn(j, flowId, 'started'),
        step: 'started',
        proof: 'initiatorCertificate',
      });
    });

    it('(e) a certificate another CA signed, for a card of its own making', async () => {
      const forger = makeTerminal(); // its own issuer and CA
      const j = hostile();
      const flowId = copyFlow(j, genuine, (step, p) =>
        step === 'started'
          ? {
              ...p,
              initiatorId: forger.cards.payer.store.read().holderId,
              initiatorCertificate: toHex(certificateOf(forger)),
            }
          : p,
      );
      await clearing.expectRefused(j.batch(), {
        seq: seqIn(j, flowId, 'started'),
        step: 'started',
        proof: 'initiatorCertificate',
      });
    });

    it('(f) without the clearing key set too: the cards’ signatures need no secret', async () => {
      await clearing.restart(false);
      const j = hostile();
      const flowId = copyFlow(j, genuine, (step, p) =>
        step === 'first-committed' ? { ...p, firstDeletionProof: rand(71) } : p,
      );
      await clearing.expectRefused(j.batch(), {
        seq: seqIn(j, flowId, 'first-committed'),
        step: 'first-committed',
        proof: 'firstDeletionProof',
      });
    });

    it('books nothing on a proof the terminal set aside (a card refused it next), and is not refused', () =>
      clearing.expectSetAside('content-exchange', [
        ['started', genuine[0]!.payload as Record<string, unknown>],
        ['first-sent', { firstTxId: rand() }],
        ['first-received', { firstCommit: rand(70) }],
        ['card-refused', { code: 'E_PKI_SIGNATURE', sw: 0x6982 }],
        ['rolled-back', { reason: 'the first card never started it' }],
      ]));
  });
});
