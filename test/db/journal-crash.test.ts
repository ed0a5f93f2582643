import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/connection.js';
import { Flows } from '../../db/flows.js';
import { Journal } from '../../db/journal.js';
import { useTempDir } from './helpers.js';

const tmp = useTempDir();
const child = fileURLToPath(new URL('./fixtures/append-and-die.ts', import.meta.url));

describe('journal durability', () => {
  it('keeps every returned append when the process is killed without closing the database', () => {
    const path = tmp.path();
    const run = spawnSync(process.execPath, ['--import', 'tsx', child, path, '25'], { encoding: 'utf8' });
    expect(run.signal).toBe('SIGKILL');
    expect(run.stdout).toBe('appended\n');
    expect(existsSync(`${path}-wal`)).toBe(true); // never checkpointed: recovery reads the WAL

    const db = tmp.track(openDatabase(path));
    const journal = new Journal(db);
    expect(journal.verify()).toMatchObject({ ok: true, count: 25 });
    expect(journal.entriesForFlow('crash-flow').at(-1)?.payload).toEqual({ i: 25 });
    expect(new Flows(db).openFlows()).toEqual([
      expect.objectContaining({ flowId: 'crash-flow', lastStep: 'step-25' }),
    ]);
  });
});
