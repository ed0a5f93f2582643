// The IPC contract and dispatch(): every channel accepts its valid request and runs its service;
// anything malformed or unknown is E_INPUT_INVALID and runs nothing.
import { describe, expect, it, vi } from 'vitest';
import { CHANNELS, type Channel, contract } from '../../electron/ipc/contract.js';
import { createHandlers, dispatch } from '../../electron/ipc/handlers.js';
import { TerminalError } from '../../protocol/errors.js';
import { SALE_FLOW_ID } from '../support/shop-fakes.js';
import { fakeServices } from './fake-services.js';

const HUGE = 'x'.repeat(100_000);
const ITEM = 'AB'.repeat(16);

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
  'terminal:info': {},
  'day:report': { day: '2026-11-21' },
  'day:export': { day: '2026-11-21', format: 'csv' },
  'host:status': {},
  'contents:list': { slot: 'payee' },
  'kiosk:status': {},
  'kiosk:exit': { pin: '482913' },
  'operator:status': {},
  'operator:sign-in': { operatorId: 'sam', pin: '9999' },
  'operator:sign-out': {},
  'operator:lock': {},
  'operator:activity': {},
  'items:issue': { type: 'ticket', label: 'Concert 24 Dec', bodyText: 'seat B12' },
  'items:sell': { itemId: ITEM, price: 1500, customerPin: '1234' },
  'items:send': { itemId: ITEM, from: 'payee' },
  'items:alter': { slot: 'payer', itemId: ITEM, bodyText: 'seat C7' },
  'refund:check': { saleFlowId: SALE_FLOW_ID },
  'refund:run': {
    saleFlowId: SALE_FLOW_ID,
    amount: 500,
    shopPin: '0000',
    supervisor: { operatorId: 'sam', pin: '9999' },
  },
  'pin:unblock': { slot: 'payer', unblockCode: '12345678', newPin: '4321' },
  'receipts:get': { flowId: SALE_FLOW_ID },
  'receipts:export': { flowId: SALE_FLOW_ID, format: 'pdf' },
  'tray:status': {},
  'tray:move': { card: 'alice', to: 'tray' },
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
  'terminal:info': [],
  'day:report': [
    { day: 'today' },
    { day: '2026-13-01' },
    { day: 20261121 },
    { day: HUGE },
    { day: '2026-11-21', x: 1 },
  ],
  'day:export': [
    {},
    { day: '2026-11-21' },
    { day: '2026-11-21', format: 'xlsx' },
    { day: '21/11/2026', format: 'csv' },
    { day: '2026-11-21', format: 'csv', path: '/etc/passwd' },
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
  'operator:status': [],
  'operator:sign-in': [
    {},
    { operatorId: 'sam' },
    { pin: '9999' },
    { operatorId: '', pin: '9999' },
    { operatorId: 'sam sam', pin: '9999' },
    { operatorId: 'x'.repeat(33), pin: '9999' },
    { operatorId: 'sam', pin: 9999 },
    { operatorId: 'sam', pin: '99a9' },
    { operatorId: 'sam', pin: '9999', role: 'supervisor' },
  ],
  'operator:sign-out': [],
  'operator:lock': [],
  'operator:activity': [],
  'items:issue': [
    {},
    { type: 'ticket' },
    { type: 'voucher', label: 'x' },
    { type: 'personal-data', label: 'x' },
    { type: 'ticket', label: '' },
    { type: 'ticket', label: '   ' },
    { type: 'ticket', label: 'é'.repeat(25) },
    { type: 'ticket', label: 'bell\u0007' },
    { type: 'ticket', label: 'x', bodyText: 'y'.repeat(513) },
    { type: 'ticket', label: 'x', bodyText: 'esc\u001b@' },
    { type: 'ticket', label: 'x', policy: 'public' },
  ],
  'items:sell': [
    {},
    { itemId: ITEM },
    { price: 100 },
    { itemId: 'AB', price: 100 },
    { itemId: `${ITEM}00`, price: 100 },
    { itemId: ITEM, price: 0 },
    { itemId: ITEM, price: -5 },
    { itemId: ITEM, price: 1.5 },
    { itemId: ITEM, price: 2 ** 32 },
    { itemId: ITEM, price: '15.00' },
    { itemId: ITEM, price: 100, customerPin: '12' },
    { itemId: ITEM, price: 100, initiator: 'payee' },
  ],
  'items:send': [
    {},
    { itemId: ITEM },
    { itemId: ITEM, from: 'both' },
    { itemId: 'zz'.repeat(16), from: 'payer' },
    { itemId: ITEM, from: 'payer', customerPin: 1234 },
    { itemId: ITEM, from: 'payer', to: 'payee' },
  ],
  'items:alter': [
    {},
    { slot: 'payer', itemId: ITEM },
    { slot: 'payer', itemId: ITEM, bodyText: 'z'.repeat(600) },
    { slot: 'payer', itemId: ITEM, bodyText: 'cut\u001dV' },
    { slot: 'nowhere', itemId: ITEM, bodyText: 'x' },
  ],
  'refund:check': [
    {},
    { saleFlowId: '' },
    { saleFlowId: 'a b' },
    { saleFlowId: HUGE },
    { flowId: SALE_FLOW_ID },
  ],
  'refund:run': [
    {},
    { saleFlowId: SALE_FLOW_ID, amount: 500, shopPin: '0000' },
    { saleFlowId: SALE_FLOW_ID, amount: 500, supervisor: { operatorId: 'sam', pin: '9999' } },
    { saleFlowId: SALE_FLOW_ID, amount: 0, shopPin: '0000', supervisor: { operatorId: 'sam', pin: '9999' } },
    {
      saleFlowId: SALE_FLOW_ID,
      amount: -500,
      shopPin: '0000',
      supervisor: { operatorId: 'sam', pin: '9999' },
    },
    {
      saleFlowId: SALE_FLOW_ID,
      amount: 5.5,
      shopPin: '0000',
      supervisor: { operatorId: 'sam', pin: '9999' },
    },
    { saleFlowId: SALE_FLOW_ID, amount: 500, shopPin: '00', supervisor: { operatorId: 'sam', pin: '9999' } },
    { saleFlowId: SALE_FLOW_ID, amount: 500, shopPin: '0000', supervisor: { operatorId: 'sam' } },
    { saleFlowId: SALE_FLOW_ID, amount: 500, shopPin: '0000', supervisor: { operatorId: 'sam', pin: '99' } },
    { saleFlowId: SALE_FLOW_ID, amount: 500, shopPin: '0000', supervisor: 'sam:9999' },
    {
      saleFlowId: SALE_FLOW_ID,
      amount: 500,
      shopPin: '0000',
      supervisor: { operatorId: 'sam', pin: '9999', role: 'supervisor' },
    },
    {
      saleFlowId: SALE_FLOW_ID,
      amount: 500,
      shopPin: '0000',
      supervisor: { operatorId: 'sam', pin: '9999' },
      from: 'payer',
    },
  ],
  'pin:unblock': [
    {},
    { slot: 'payer', unblockCode: '1234567', newPin: '4321' },
    { slot: 'payer', unblockCode: '123456789', newPin: '4321' },
    { slot: 'payer', unblockCode: 12345678, newPin: '4321' },
    { slot: 'payer', unblockCode: '12345678', newPin: '43' },
    { slot: 'payer', unblockCode: '12345678' },
    { slot: 'both', unblockCode: '12345678', newPin: '4321' },
  ],
  'receipts:get': [{}, { flowId: '' }, { flowId: '../../etc/passwd' }, { flowId: HUGE }],
  'receipts:export': [
    { flowId: SALE_FLOW_ID },
    { flowId: SALE_FLOW_ID, format: 'html' },
    { flowId: SALE_FLOW_ID, format: 'pdf', path: '/tmp/x.pdf' },
  ],
  'tray:status': [],
  'tray:move': [
    {},
    { card: 'alice' },
    { card: 'alice', to: 'pocket' },
    { card: 'Alice', to: 'tray' },
    { card: '../x', to: 'tray' },
    { card: 'alice', to: 'payer', force: true },
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

  it('runs one card operation at a time: a second, from any caller, is E_BUSY and runs nothing', async () => {
    const fake = fakeServices();
    let finish: () => void = () => undefined;
    fake.services.engine.transfer.mockImplementationOnce(
      () =>
        new Promise((resolve) => {
          finish = () =>
            resolve({
              status: 'completed',
              flowId: 'f1',
              amount: 100,
              keyUpdates: [],
              balances: { payer: undefined, payee: undefined },
              warnings: [],
            });
        }) as never,
    );
    const handlers = createHandlers(fake.services);
    const first = dispatch(handlers, 'transfer:run', { amount: 100 }, { operationId: 'op-first-0001' });
    await new Promise((r) => setTimeout(r, 0));
    for (const [channel, payload] of [
      ['transfer:run', { amount: 100 }],
      ['cards:read', { slot: 'payer' }],
      ['session:login', { slot: 'payer', pin: '1234' }],
      ['recovery:run', {}],
    ] as const) {
      expect(
        await dispatch(handlers, channel, payload, { operationId: `op-${channel.replace(':', '-')}` }),
      ).toMatchObject({
        ok: false,
        error: { code: 'E_BUSY', details: { channel: 'transfer:run', changes: true } },
      });
    }
    // What touches no card still answers.
    expect((await dispatch(handlers, 'crl:status', {})).ok).toBe(true);
    finish();
    expect(await first).toMatchObject({ ok: true, value: { status: 'completed' } });
    expect(fake.services.engine.transfer).toHaveBeenCalledTimes(1);
    expect(fake.services.engine.readCard).not.toHaveBeenCalled();
    expect(fake.services.engine.login).not.toHaveBeenCalled();
    // Free again.
    expect((await dispatch(handlers, 'cards:read', { slot: 'payer' })).ok).toBe(true);
  });

  it('runs an operation ID once: a replayed or malformed one is refused and runs nothing', async () => {
    const fake = fakeServices();
    const handlers = createHandlers(fake.services);
    const meta = { operationId: '6f1c1a0e-3f5b-4f43-9d0b-2a1c3e4d5f60' };
    expect((await dispatch(handlers, 'transfer:run', { amount: 100 }, meta)).ok).toBe(true);
    expect(await dispatch(handlers, 'transfer:run', { amount: 100 }, meta)).toMatchObject({
      ok: false,
      error: { code: 'E_INPUT_INVALID', message: expect.stringContaining('already run') },
    });
    for (const operationId of [42, '', 'short', 'x'.repeat(65), 'no spaces allowed', { id: 1 }]) {
      expect(await dispatch(handlers, 'transfer:run', { amount: 100 }, { operationId })).toMatchObject({
        ok: false,
        error: { code: 'E_INPUT_INVALID' },
      });
    }
    expect(fake.services.engine.transfer).toHaveBeenCalledTimes(1);
  });

  it('hands an exported Z report to the host’s delivery: downloaded by the page unless the host saves it', async () => {
    const fake = fakeServices();
    const download = await dispatch(createHandlers(fake.services), 'day:export', {
      day: '2026-11-21',
      format: 'csv',
    });
    expect(download).toEqual({
      ok: true,
      value: { delivery: 'download', fileName: 'z.csv', mimeType: 'text/csv', base64: 'YQ==' },
    });
    const saved: unknown[] = [];
    const files = {
      deliver: vi.fn(async (f: { fileName: string; bytes: Uint8Array }) => {
        saved.push(f);
        return { delivery: 'saved' as const, fileName: f.fileName, path: `/home/shop/${f.fileName}` };
      }),
    };
    const result = await dispatch(createHandlers({ ...fake.services, documents: files }), 'day:export', {
      day: '2026-11-21',
      format: 'csv',
    });
    expect(result).toEqual({
      ok: true,
      value: { delivery: 'saved', fileName: 'z.csv', path: '/home/shop/z.csv' },
    });
    expect(fake.services.reports.day.export).toHaveBeenLastCalledWith('2026-11-21', 'csv');
    expect(saved).toHaveLength(1);
  });
});
