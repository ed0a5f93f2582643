// The terminal CLI as an operator's script runs it: a subprocess on the demo shop's files.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cliProcess } from '../support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'terminal-cli-'));
const config = join(dir, 'demo', 'terminal.json');

const terminal = cliProcess('electron/cli/main.ts', dir);

describe('terminal CLI', () => {
  it('runs a sale on the demo shop: read, transfer with key update, log, verify', () => {
    expect(terminal('demo-setup', '--dir', join(dir, 'demo')).code).toBe(0);
    const masked = terminal('read', '--config', config, '--json').json();
    expect(masked[0].balance).toBeUndefined();
    const cards = terminal(
      'read',
      '--config',
      config,
      '--payer-pin',
      '1234',
      '--payee-pin',
      '0000',
      '--json',
    ).json();
    expect(cards.map((c: { slot: string }) => c.slot)).toEqual(['payer', 'payee']);
    expect(cards[0]).toMatchObject({ balance: 20000, transferKeyId: 1, certificate: { status: 'valid' } });

    const sale = terminal(
      'transfer',
      '--config',
      config,
      '--amount',
      '12.50',
      '--payer-pin',
      '1234',
      '--payee-pin',
      '0000',
      '--json',
    );
    expect(sale.code).toBe(0);
    expect(sale.json()).toMatchObject({
      status: 'completed',
      amount: 1250,
      balances: { payer: 18750, payee: 6250 },
      keyUpdates: [{ receiver: 'payer', route: 'common-key' }],
    });

    const log = terminal('log', '--config', config, '--json', '--limit', '5').json();
    expect(log.records[0].step).toBe('completed');
    // The screen's search: the sale by its amount as typed, with the holders' names.
    const sales = terminal('log', '--config', config, '--json', '--search', '12.50').json();
    expect(sales.search).toEqual({ text: '12.50', amount: 1250 });
    expect(sales.records.length).toBeGreaterThan(1);
    for (const r of sales.records)
      expect(r.flow).toMatchObject({
        business: 'sale',
        amount: 1250,
        from: { label: 'Alice' },
        to: { label: 'Corner Shop' },
      });
    expect(sales.nextBeforeSeq).toBeUndefined();
    expect(terminal('verify-log', '--config', config).stdout).toContain('hash chain intact');
    expect(terminal('in-doubt', '--config', config, '--json').json()).toEqual({
      transfers: [],
      deliveries: [],
      contents: [],
    });
    expect(terminal('crl-status', '--config', config, '--json').json()).toMatchObject({
      state: 'fresh',
      source: 'builtin',
    });
  });

  it('refuses bad input with typed errors and moves nothing', () => {
    const before = readFileSync(join(dir, 'demo', 'payer-card.json'), 'utf8');
    for (const args of [
      ['transfer', '--config', config, '--amount', 'abc'],
      ['transfer', '--config', config, '--amount', '1.234'],
      ['transfer', '--config', config, '--minor', '-5'],
      ['read', '--config', config, '--slot', 'middle'],
      ['read', '--config', join(dir, 'missing.json')],
      ['log', '--config', config, '--limit', 'many'],
      ['transfer', '--config', config, '--unknown'],
    ]) {
      const r = terminal(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^error E_[A-Z_]+: /);
    }
    const tooMuch = terminal('transfer', '--config', config, '--amount', '100000', '--json');
    expect(tooMuch.code).toBe(3);
    // Above the demo card's no-PIN limit the card asks for the PIN (SW 9403) before it compares any
    // balance: a refusal without the PIN says nothing of the balance (protocol §4.6).
    expect(tooMuch.json()).toMatchObject({ status: 'refused', error: { code: 'E_PIN_REQUIRED' } });

    expect(readFileSync(join(dir, 'demo', 'payer-card.json'), 'utf8')).toBe(before);
    // A wrong PIN is refused, and the card (not the terminal) counts the try.
    const wrongPin = terminal('read', '--config', config, '--payer-pin', '9999');
    expect(wrongPin.code).toBe(2);
    expect(wrongPin.stderr).toContain('E_PIN_WRONG');
    expect(wrongPin.stderr).toContain('2 tries left');
    expect(JSON.parse(readFileSync(join(dir, 'demo', 'payer-card.json'), 'utf8')).owner.tries).toBe(2);
  });

  it('finds an edited log row', () => {
    const db = new Database(join(dir, 'demo', 'data', 'terminal.db'));
    db.exec('DROP TRIGGER journal_entry_no_update');
    // The sale's opening entry (a value transfer's first): one byte of its payload changed.
    const seq = db.prepare('SELECT flow_no FROM flow WHERE kind = 0 ORDER BY flow_no LIMIT 1').pluck().get();
    const body = db.prepare('SELECT body FROM journal_entry WHERE seq = ?').pluck().get(seq) as Buffer;
    body.writeUInt8(body.readUInt8(body.length - 1) ^ 0x01, body.length - 1);
    db.prepare('UPDATE journal_entry SET body = ? WHERE seq = ?').run(body, seq);
    db.close();
    const r = terminal('verify-log', '--config', config, '--json');
    expect(r.code).toBe(4);
    expect(r.json()).toMatchObject({ ok: false, reason: 'hash-mismatch', firstBadSeq: seq });
  });
});
