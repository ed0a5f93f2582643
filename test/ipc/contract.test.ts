// The IPC contract and dispatch(): every channel accepts its valid request and runs its service;
// anything malformed or unknown is E_INPUT_INVALID and runs nothing.
import { describe, expect, it } from 'vitest';
import { CHANNELS, type Channel, contract } from '../../electron/ipc/contract.js';
import { createHandlers, dispatch } from '../../electron/ipc/handlers.js';
import { TerminalError } from '../../protocol/errors.js';
import { fakeServices } from './fake-services.js';

const HUGE = 'x'.repeat(100_000);

const VALID: Record<Channel, unknown> = {
  'slots:status': {},
  'cards:read': { slot: 'payer' },
  'session:login': { slot: 'payee', pin: '0000' },
  'session:logout': { slot: 'payer' },
  'session:authenticate': { payerMode: 'issuer' },
  'transfer:run': { amount: 1250 },
  'keys:update': {},
  'log:page': { limit: 20, beforeSeq: 10, search: 'credit' },
  'log:verify': {},
  'indoubt:list': {},
  'recovery:run': {},
  'crl:status': {},
  'crl:refresh': {},
  'host:status': {},
  'settlement:summary': { day: '2026-11-21' },
  'contents:list': { slot: 'payee' },
  'kiosk:status': {},
  'kiosk:exit': { pin: '482913' },
};

const COMMON_BAD = [undefined, null, 'text', 42, [], { extra: 1 }, { ['__proto__']: { polluted: true } }];

const MALFORMED: Record<Channel, unknown[]> = {
  'slots:status': [],
  'cards:read': [{}, { slot: 'both' }, { slot: 1 }, { slot: 'payer', extra: true }, { slot: HUGE }],
  'session:login': [
    { slot: 'payer' },
    { pin: '1234' },
    { slot: 'payer', pin: 1234 },
    { slot: 'payer', pin: '12a4' },
    { slot: 'payer', pin: '123' },
    { slot: 'payer', pin: HUGE },
    { slot: 'payer', pin: '1234', owner: true },
  ],
  'session:logout': [{}, { slot: 'nobody' }, { slot: ['payer'] }],
  'session:authenticate': [
    { payerMode: 'owner' },
    { payeeMode: 'ISSUER' },
    { payerMode: 1 },
    { payerMode: HUGE },
    { payerMode: 'issuer', slot: 'payer' },
  ],
  'transfer:run': [
    {},
    { amount: '12.50' },
    { amount: -1 },
    { amount: 0 },
    { amount: 12.5 },
    { amount: Number.NaN },
    { amount: Number.POSITIVE_INFINITY },
    { amount: 2 ** 32 },
    { amount: 100, payer: 'someone' },
  ],
  'keys:update': [],
  'log:page': [
    {},
    { limit: 0 },
    { limit: 201 },
    { limit: 1.5 },
    { limit: '20' },
    { limit: 20, beforeSeq: -3 },
    { limit: 20, beforeSeq: 0.5 },
    { limit: 20, search: HUGE },
    { limit: 20, search: 5 },
    { limit: 20, sql: 'DROP TABLE journal' },
  ],
  'log:verify': [],
  'indoubt:list': [],
  'recovery:run': [],
  'crl:status': [],
  'crl:refresh': [],
  'host:status': [{ extra: 1 }],
  'settlement:summary': [
    { day: 'today' },
    { day: '2026-13-01' },
    { day: 20261121 },
    { day: HUGE },
    { day: '2026-11-21', x: 1 },
  ],
  'contents:list': [{}, { slot: 'payer', itemId: 'AA' }],
  'kiosk:status': [],
  'kiosk:exit': [
    {},
    { pin: 482913 },
    { pin: '48a913' },
    { pin: '123' },
    { pin: '1234567890123' },
    { pin: ' 1234' },
    { pin: HUGE },
    { pin: ['1234'] },
    { pin: '1234', force: true },
  ],
};

describe('the IPC contract', () => {
  it('lists every operator action', () => {
    expect(CHANNELS.sort()).toEqual(Object.keys(VALID).sort());
    for (const c of CHANNELS) expect(contract[c].request.safeParse(VALID[c]).success).toBe(true);
  });

  for (const channel of CHANNELS) {
    describe(channel, () => {
      it('runs its service for a valid request and answers a response of its schema', async () => {
        const fake = fakeServices();
        const result = await dispatch(createHandlers(fake.services), channel, VALID[channel]);
        expect(result.ok).toBe(true);
        expect(fake.calls()).toBeGreaterThan(0);
        if (result.ok) expect(contract[channel].response.safeParse(result.value).success).toBe(true);
      });

      it('refuses malformed payloads with E_INPUT_INVALID and runs nothing', async () => {
        const fake = fakeServices();
        const handlers = createHandlers(fake.services);
        for (const payload of [...COMMON_BAD, ...MALFORMED[channel]]) {
          const result = await dispatch(handlers, channel, payload);
          expect(result, JSON.stringify(payload)?.slice(0, 80)).toMatchObject({
            ok: false,
            error: { code: 'E_INPUT_INVALID' },
          });
        }
        expect(fake.calls()).toBe(0);
      });
    });
  }

  it('refuses unknown channels, including inherited property names', async () => {
    const fake = fakeServices();
    const handlers = createHandlers(fake.services);
    for (const channel of [
      'transfer',
      'TRANSFER:RUN',
      '__proto__',
      'constructor',
      'toString',
      '',
      7,
      null,
      undefined,
    ]) {
      expect(await dispatch(handlers, channel, {})).toMatchObject({
        ok: false,
        error: { code: 'E_INPUT_INVALID' },
      });
    }
    expect(fake.calls()).toBe(0);
  });

  it('maps a thrown TerminalError to its code, message and details; anything else to E_INTERNAL', async () => {
    const fake = fakeServices();
    fake.services.engine.login.mockRejectedValueOnce(
      new TerminalError('E_PIN_WRONG', 'wrong PIN on the payer card: 2 tries left', {
        slot: 'payer',
        triesLeft: 2,
      }),
    );
    const handlers = createHandlers(fake.services);
    expect(await dispatch(handlers, 'session:login', { slot: 'payer', pin: '9999' })).toEqual({
      ok: false,
      error: {
        code: 'E_PIN_WRONG',
        message: 'wrong PIN on the payer card: 2 tries left',
        details: { slot: 'payer', triesLeft: 2 },
      },
    });
    fake.services.engine.readCard.mockRejectedValueOnce(new Error('secret internals'));
    expect(await dispatch(handlers, 'cards:read', { slot: 'payer' })).toMatchObject({
      ok: false,
      error: { code: 'E_INTERNAL', message: expect.not.stringContaining('secret') },
    });
  });

  it('passes only the session modes asked for to the card-to-card authentication', async () => {
    const fake = fakeServices();
    const handlers = createHandlers(fake.services);
    await dispatch(handlers, 'session:authenticate', { payerMode: 'issuer' });
    await dispatch(handlers, 'session:authenticate', {});
    expect(fake.services.contents.authenticate.mock.calls).toEqual([[{ payerMode: 'issuer' }], [{}]]);
  });

  it('passes a masked balance through as undefined, never a made-up number', async () => {
    const fake = fakeServices();
    const result = await dispatch(createHandlers(fake.services), 'cards:read', { slot: 'payer' });
    expect(result.ok && 'balance' in (result.value as object)).toBe(false);
  });

  it('turns a refused transfer into an outcome with a plain error object', async () => {
    const fake = fakeServices();
    fake.services.engine.transfer.mockResolvedValueOnce({
      status: 'refused',
      keyUpdates: [],
      error: new TerminalError('E_PKI_REVOKED', 'the payee card certificate is revoked', { serial: 5n }),
    } as never);
    const result = await dispatch(createHandlers(fake.services), 'transfer:run', { amount: 100 });
    expect(result).toEqual({
      ok: true,
      value: {
        status: 'refused',
        keyUpdates: [],
        error: {
          code: 'E_PKI_REVOKED',
          message: 'the payee card certificate is revoked',
          details: { serial: '5' },
        },
      },
    });
  });

  it('sums the day from the flows’ facts per direction, with the open in-doubt items', async () => {
    const fake = fakeServices();
    const flows: Record<string, { last: string; payer: string; amount: number; day: string }> = {
      f1: { last: 'completed', payer: 'AA', amount: 100, day: '2026-11-21' },
      f2: { last: 'completed', payer: 'AA', amount: 250, day: '2026-11-21' },
      f3: { last: 'completed', payer: 'CC', amount: 50, day: '2026-11-21' },
      f4: { last: 'failed-no-value-moved', payer: 'AA', amount: 9, day: '2026-11-21' },
      f5: { last: 'completed', payer: 'AA', amount: 1000, day: '2026-11-20' },
    };
    // The flow cache answers for one day (SQL does the filtering; test/db checks that query).
    fake.services.flows.closedOn.mockImplementation(((kind: string, day: string) =>
      Object.entries(flows)
        .filter(([, f]) => kind === 'value-transfer' && f.day === day)
        .map(([flowId, f]) => ({
          flowId,
          flowKind: 'value-transfer' as const,
          firstSeq: 1,
          lastSeq: 2,
          openedAt: `${f.day}T09:00:00.000Z`,
          updatedAt: `${f.day}T09:00:01.000Z`,
          lastStep: f.last,
          terminal: true,
          // The flow's facts (db/flow-facts.ts): no entry is read.
          amount: f.amount,
          cards: [{ holderId: f.payer }, { holderId: 'BB' }],
          items: [],
        }))) as never);
    const result = await dispatch(createHandlers(fake.services), 'settlement:summary', { day: '2026-11-21' });
    expect(result).toEqual({
      ok: true,
      value: {
        day: '2026-11-21',
        directions: [
          { payerId: 'AA', payeeId: 'BB', count: 2, total: 350 },
          { payerId: 'CC', payeeId: 'BB', count: 1, total: 50 },
        ],
        count: 3,
        total: 400,
        notCompleted: 1,
        inDoubt: [],
      },
    });
  });
});
