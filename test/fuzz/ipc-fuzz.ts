// IPC schema fuzz: for every channel of the contract, arbitrary values (fast-check's anything, with
// bigints, dates, maps, null-prototype objects...) and mutations of valid requests (wrong types,
// missing and extra keys, huge strings and numbers, negative, fractional and NaN amounts, the
// prototype keys __proto__ and constructor) through the real validation and dispatch path.
//
// Properties: dispatch never throws and answers a Result; a request the contract refuses is
// E_INPUT_INVALID, with a short message, and runs no service at all; a request it accepts reaches
// its handler exactly as the schema says and every service argument is in its domain; a success
// answers a response of the channel's schema, an error a known code; Object.prototype is never
// touched. runIpcFuzz uses recording fake services; runIpcTerminalFuzz the real ones around two
// simulated cards, where a refused request must also leave cards, journal and CRL as they were.

import fc from 'fast-check';
import { CHANNELS, type Channel, contract } from '../../electron/ipc/contract.js';
import {
  type CallContext,
  createHandlers,
  dispatch,
  type HandlerServices,
  type Handlers,
} from '../../electron/ipc/handlers.js';
import { CardOperations } from '../../electron/services/card-operations.js';
import { ContentEngine } from '../../electron/services/contents/content-engine.js';
import { PERMISSIONS } from '../../electron/services/operators/operator-roles.js';
import { TerminalRecovery } from '../../electron/services/recovery/terminal-recovery.js';
import { createOwnerLogins } from '../../electron/services/settlement/owner-logins.js';
import { createReports } from '../../electron/services/terminal-services.js';
import { ERROR_CODES } from '../../protocol/errors.js';
import { SHOP_CONFIG } from '../support/shop-fakes.js';
import { makeTerminal, type TerminalUnderTest } from '../support/terminal-fixtures.js';
import { checkProperty, type FuzzOptions, type FuzzReport, FuzzStats, invariant } from './fuzz-report.js';
import { type ServiceCall, spyServices } from './ipc-spy-services.js';
import { arbitraryFor } from './json-schema-arbitrary.js';
import { withSeededRandom } from './seeded-random.js';

export type RequestMutation =
  | { op: 'replace'; key: number; value: unknown }
  | { op: 'drop'; key: number }
  | { op: 'add'; key: string; value: unknown }
  | { op: 'whole'; value: unknown }
  | { op: 'wrap'; inArray: boolean };

export interface IpcCase {
  /** A contract channel, or a name that is not one. */
  channel: string;
  /** 'valid': a request the schema generates; otherwise what was done to it, or arbitrary. */
  source: 'valid' | 'mutated' | 'anything';
  payload: unknown;
}

const HUGE = 'x'.repeat(100_000);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom<unknown>(
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      -1,
      0,
      -0,
      0.5,
      1.5,
      2 ** 31,
      2 ** 32,
      2 ** 32 - 1,
      2 ** 53,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
      '',
      ' ',
      'payer ',
      'PAYER',
      '1e3',
      '0x10',
      ' 1234',
      '1234 ',
      '１２３４',
      '1234\n',
      '12345678901234567890',
      '2026-02-30',
      '2026-11-21T00:00:00Z',
      "'; DROP TABLE journal; --",
      '\u0000',
      '__proto__',
      HUGE,
      null,
      undefined,
      true,
      [],
      {},
      [1],
      { toString: 'x' },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.anything({
      maxDepth: 2,
      withBigInt: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withTypedArray: true,
      withNullPrototype: true,
      withBoxedValues: true,
      withSparseArray: true,
    }),
  },
  { weight: 1, arbitrary: fc.oneof(fc.string(), fc.integer(), fc.double()) },
);
const hostileKey = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'valueOf',
    'hasOwnProperty',
    'then',
    '',
    'Slot',
    'amount ',
  ),
  fc.string({ maxLength: 12 }),
);
const mutationArb: fc.Arbitrary<RequestMutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant('replace' as const), key: fc.nat(), value: hostileValue }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('drop' as const), key: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('add' as const), key: hostileKey, value: hostileValue }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('whole' as const), value: hostileValue }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('wrap' as const), inArray: fc.boolean() }) },
);

const validCase = (c: Channel): fc.Arbitrary<IpcCase> =>
  arbitraryFor(contract[c].request).map((payload) => ({ channel: c, source: 'valid' as const, payload }));

const mutatedCase = (c: Channel): fc.Arbitrary<IpcCase> =>
  fc
    .tuple(arbitraryFor(contract[c].request), fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
    .map(([request, mutations]) => ({
      channel: c,
      source: 'mutated' as const,
      payload: mutations.reduce((p, m) => mutateRequest(p, m), request),
    }));

const anythingCase: fc.Arbitrary<IpcCase> = fc.record({
  channel: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom<string>(...CHANNELS) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '__proto__',
        'constructor',
        'toString',
        'hasOwnProperty',
        'slots:status ',
        'SLOTS:STATUS',
        '',
      ),
    },
    { weight: 1, arbitrary: fc.string() },
  ),
  source: fc.constant('anything' as const),
  payload: fc.oneof(hostileValue, fc.jsonValue()),
});

export const ipcCaseArb: fc.Arbitrary<IpcCase> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...CHANNELS).chain(validCase) },
  { weight: 5, arbitrary: fc.constantFrom(...CHANNELS).chain(mutatedCase) },
  { weight: 2, arbitrary: anythingCase },
);

/** An own property even for "__proto__", as JSON.parse and structured clone make it. */
function setOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export function mutateRequest(payload: unknown, m: RequestMutation): unknown {
  if (m.op === 'whole') return m.value;
  if (m.op === 'wrap') return m.inArray ? [payload] : { payload };
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return payload;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload)) setOwn(copy, key, value);
  const keys = Object.keys(copy);
  if (m.op === 'add') setOwn(copy, m.key, m.value);
  else if (keys.length > 0) {
    const key = keys[m.key % keys.length]!;
    if (m.op === 'replace') setOwn(copy, key, m.value);
    else delete copy[key];
  }
  return copy;
}

// ---- The properties ----

/** What each service may be called with: its domain, written out independently of the schemas. */
const SLOT = (v: unknown) => v === 'payer' || v === 'payee';
const PIN = (v: unknown) => typeof v === 'string' && /^\d{4,12}$/.test(v);
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const ITEM_ID = (v: unknown) => typeof v === 'string' && /^[0-9A-Fa-f]{32}$/.test(v);
const FLOW_ID = (v: unknown) => typeof v === 'string' && /^[A-Za-z0-9-]{1,64}$/.test(v);
const AMOUNT = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= 0xffffffff;
const ARGUMENTS: Record<string, (args: unknown[]) => boolean> = {
  'engine.readCard': ([slot]) => SLOT(slot),
  'engine.login': ([slot, pin]) => SLOT(slot) && PIN(pin),
  'engine.transfer': ([r]) => {
    const { amount, from, admit, ...rest } = r as Record<string, unknown>;
    return (
      AMOUNT(amount) &&
      (from === undefined || from === 'payee') &&
      (admit === undefined || typeof admit === 'function') &&
      Object.keys(rest).length === 0
    );
  },
  'contents.listContents': ([slot]) => SLOT(slot),
  'contents.logout': ([slot]) => SLOT(slot),
  'contents.authenticate': ([modes]) =>
    Object.entries(modes as object).every(
      ([k, v]) =>
        ['payerMode', 'payeeMode'].includes(k) &&
        (v === undefined || ['basic', 'issuer'].includes(v as string)),
    ),
  'reports.log.page': ([q]) => {
    const { limit, beforeSeq, search } = q as { limit: unknown; beforeSeq?: unknown; search?: unknown };
    return (
      Number.isSafeInteger(limit) &&
      (limit as number) >= 1 &&
      (limit as number) <= 200 &&
      (beforeSeq === undefined || (Number.isSafeInteger(beforeSeq) && (beforeSeq as number) >= 1)) &&
      (search === undefined || (typeof search === 'string' && search.length <= 200))
    );
  },
  'reports.facts.refundsOf': ([ids]) => Array.isArray(ids) && ids.every((id) => typeof id === 'string'),
  'reports.day.summary': ([day]) => day === undefined || (typeof day === 'string' && DAY.test(day)),
  'reports.day.export': ([day, format]) =>
    typeof day === 'string' && DAY.test(day) && ['csv', 'pdf'].includes(format as string),
  'journal.entriesForFlow': ([flowId]) => FLOW_ID(flowId),
  'flows.closedOn': ([kind, day]) =>
    kind === 'value-transfer' && typeof day === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(day),
  'flows.flow': ([flowId]) => FLOW_ID(flowId),
  'kiosk.exit': ([pin]) => PIN(pin),
  'engine.unblockPin': ([slot, puk, pin]) =>
    SLOT(slot) && typeof puk === 'string' && /^\d{8}$/.test(puk) && PIN(pin),
  'contents.send': ([r]) => {
    const { from, itemId, ...rest } = r as Record<string, unknown>;
    return SLOT(from) && ITEM_ID(itemId) && Object.keys(rest).length === 0;
  },
  'contents.exchange': ([r]) => {
    const { initiator, give, take } = r as {
      initiator: unknown;
      give: { amount?: unknown };
      take: { itemId?: unknown };
    };
    return initiator === 'payer' && AMOUNT(give.amount) && ITEM_ID(take.itemId);
  },
  'contents.alterContent': ([slot, itemId, body]) =>
    SLOT(slot) && ITEM_ID(itemId) && body instanceof Uint8Array && body.length <= 512,
  'desk.signIn': ([id, pin]) =>
    typeof id === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/.test(id) && PIN(pin),
  'desk.authorize': ([permission, confirmation]) =>
    (PERMISSIONS as readonly unknown[]).includes(permission) &&
    (confirmation === undefined || PIN((confirmation as { pin?: unknown }).pin)),
  'ownerLogins.opened': ([slot, screen]) => SLOT(slot) && typeof screen === 'string',
  'ownerLogins.owner': ([slot]) => SLOT(slot),
  'ownerLogins.shownTo': ([slot, screen]) => SLOT(slot) && typeof screen === 'string',
  'ownerLogins.end': ([slots]) => Array.isArray(slots) && slots.every(SLOT),
  'ownerLogins.ended': ([slot]) => SLOT(slot),
  'tray.move': ([id, to]) => typeof id === 'string' && ['payer', 'payee', 'tray'].includes(to as string),
  'issuing.issue': ([slot, item]) => {
    const i = item as { type?: unknown; label?: unknown; body?: unknown };
    return (
      slot === 'payee' &&
      ['ticket', 'coupon'].includes(i.type as string) &&
      typeof i.label === 'string' &&
      Buffer.byteLength(i.label) <= 48 &&
      typeof i.body === 'string' &&
      i.body.length <= 1024
    );
  },
};

/**
 * Handlers that note any request their schema refuses (and still run it, so that the service spies
 * see what a broken dispatch would pass on); a note is a violation however the caller handles errors.
 */
function guarded(handlers: Handlers, violations: string[]): Handlers {
  const out = {} as Record<Channel, (r: unknown, ctx: CallContext) => Promise<unknown>>;
  for (const c of CHANNELS) {
    const handler = handlers[c] as (r: unknown, ctx: CallContext) => Promise<unknown>;
    out[c] = (request, ctx) => {
      if (!contract[c].request.safeParse(request).success)
        violations.push(`${c}: the handler got a request its schema refuses`);
      return handler(request, ctx);
    };
  }
  return out as Handlers;
}

const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort().join();

async function checkDispatch(
  handlers: Handlers,
  calls: ServiceCall[],
  violations: string[],
  c: IpcCase,
  stats: FuzzStats,
): Promise<{ accepted: boolean }> {
  const accepted =
    typeof c.channel === 'string' &&
    Object.hasOwn(contract, c.channel) &&
    contract[c.channel as Channel].request.safeParse(c.payload).success;
  if (c.source === 'valid')
    invariant(accepted, `${c.channel}: a request generated from its own schema is refused`);
  const first = calls.length;
  violations.length = 0;
  let result: Awaited<ReturnType<typeof dispatch>>;
  try {
    result = await dispatch(handlers, c.channel, c.payload);
  } catch (e) {
    throw new Error(`dispatch threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
  }
  invariant(violations.length === 0, violations[0]!);
  invariant(
    Object.getOwnPropertyNames(Object.prototype).sort().join() === PROTOTYPE_KEYS,
    'Object.prototype was changed',
  );
  invariant(({} as Record<string, unknown>).polluted === undefined, 'Object.prototype was polluted');
  invariant(
    typeof result === 'object' && result !== null && typeof result.ok === 'boolean',
    'dispatch answered no Result',
  );
  const json = JSON.stringify(result);
  invariant(typeof json === 'string', 'the Result does not cross a JSON transport');
  const made = calls.slice(first);
  for (const call of made) {
    const domain = ARGUMENTS[call.service];
    invariant(
      domain ? domain(call.args) : call.args.length === 0,
      `${call.service} called with ${JSON.stringify(call.args)?.slice(0, 120)}`,
    );
  }
  if (!accepted) {
    invariant(
      !result.ok && result.error.code === 'E_INPUT_INVALID',
      `${c.channel}: a refused request answered ${json.slice(0, 120)}`,
    );
    invariant(
      result.error.message.length < 500,
      `${c.channel}: the refusal message echoes the input (${result.error.message.length} chars)`,
    );
    invariant(
      made.length === 0,
      `${c.channel}: a refused request ran ${made.map((m) => m.service).join(', ')}`,
    );
    stats.add('refused');
    return { accepted };
  }
  if (result.ok) {
    const parsed = contract[c.channel as Channel].response.safeParse(result.value);
    invariant(
      parsed.success,
      `${c.channel}: the response breaks its schema: ${parsed.error?.issues[0]?.message}`,
    );
    stats.add(`${c.channel} ok`);
  } else {
    invariant(
      Object.hasOwn(ERROR_CODES, result.error.code),
      `${c.channel}: unknown error code ${result.error.code}`,
    );
    invariant(
      result.error.code !== 'E_INTERNAL',
      `${c.channel}: E_INTERNAL (an untyped exception in a handler)`,
    );
    stats.add(`${c.channel} ${result.error.code}`);
  }
  return { accepted };
}

export async function runIpcFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const stats = new FuzzStats();
  const property = fc.asyncProperty(ipcCaseArb, async (c) => {
    const { services, calls } = spyServices();
    const violations: string[] = [];
    await checkDispatch(guarded(createHandlers(services), violations), calls, violations, c, stats);
  });
  return checkProperty('ipc', property, opts, stats);
}

// ---- Real services ----

/** Wraps every method of every service so that its calls are recorded, then forwarded. */
function recorded(services: HandlerServices, calls: ServiceCall[]): HandlerServices {
  const wrap = <T extends object>(name: string, target: T): T =>
    new Proxy(target, {
      get(t, key, receiver) {
        const value = Reflect.get(t, key, receiver);
        if (typeof value !== 'function' || typeof key !== 'string') return value;
        return (...args: unknown[]) => {
          calls.push({ service: `${name}.${key}`, args });
          return value.apply(t, args);
        };
      },
    });
  return {
    ...services,
    engine: wrap('engine', services.engine),
    contents: wrap('contents', services.contents),
    journal: wrap('journal', services.journal),
    crl: wrap('crl', services.crl),
    slots: wrap('slots', services.slots),
  };
}

function snapshot(t: TerminalUnderTest): string {
  return JSON.stringify({
    payer: t.cards.payer.store.read(),
    payee: t.cards.payee.store.read(),
    journal: t.journal.verify(),
    flows: t.flows.all(),
    crl: t.crl.status(),
  });
}

function value(t: TerminalUnderTest): number {
  return t.total() + t.engine.inDoubt().reduce((sum, i) => sum + i.amount, 0);
}

export async function runIpcTerminalFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const t = await withSeededRandom(`ipc-terminal:${opts.seed}`, () => makeTerminal());
  const contents = new ContentEngine(t.engine, { journal: t.journal, flows: t.flows, slots: t.slots });
  const recovery = new TerminalRecovery({
    engine: t.engine,
    journal: t.journal,
    flows: t.flows,
    slots: t.slots,
  });
  const calls: ServiceCall[] = [];
  const services = recorded(
    {
      engine: t.engine,
      contents,
      recovery,
      journal: t.journal,
      flows: t.flows,
      crl: t.crl,
      slots: t.slots,
      config: SHOP_CONFIG,
      // Real owner logins; no desk: a terminal without operators (the refund is refused for want of one).
      ownerLogins: createOwnerLogins({ logout: (slot) => contents.logout(slot), slots: t.slots }),
      operations: new CardOperations(),
      reports: createReports(SHOP_CONFIG, t.journal, t.flows, () => new Date('2026-11-21T10:00:00Z')),
    },
    calls,
  );
  const violations: string[] = [];
  const handlers = guarded(createHandlers(services), violations);
  const stats = new FuzzStats();
  const start = value(t);
  const property = fc.asyncProperty(ipcCaseArb, fc.nat(), (c, rngSeed) =>
    withSeededRandom(`ipc-terminal:${opts.seed}:${rngSeed}`, async () => {
      const before = snapshot(t);
      const { accepted } = await checkDispatch(handlers, calls, violations, c, stats);
      if (!accepted)
        invariant(snapshot(t) === before, `${c.channel}: a refused request changed the terminal's state`);
      invariant(value(t) === start, `${c.channel}: value changed (${start} → ${value(t)})`);
    }),
  );
  try {
    return await checkProperty('ipc-terminal', property, opts, stats);
  } finally {
    recovery.close();
    contents.close();
    await t.engine.close();
  }
}
