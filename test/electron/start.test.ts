// `npm start` decides between the Electron app and the browser host: with an Electron binary it builds
// the renderer, the shell and the Electron native modules, in that order, then launches; without one,
// or when preparing fails, it says so in one line and runs the browser host (without shell-only flags).
import { describe, expect, it } from 'vitest';
import { type StartSteps, start } from '../../electron/start.js';

function steps(o: { binary?: string; fail?: 'buildRenderer' | 'buildShell' | 'buildNativeAddons' } = {}) {
  const done: string[] = [];
  const lines: string[] = [];
  const step = (name: 'buildRenderer' | 'buildShell' | 'buildNativeAddons') => async () => {
    done.push(name);
    if (o.fail === name) throw new Error(`${name} failed: no compiler`);
  };
  const s: StartSteps = {
    electronBinary: () => o.binary,
    buildRenderer: step('buildRenderer'),
    buildShell: step('buildShell'),
    buildNativeAddons: step('buildNativeAddons'),
    launchElectron: async (binary, args) => {
      done.push(`launch ${binary} ${args.join(' ')}`);
      return 0;
    },
    runBrowserHost: async (args) => {
      done.push(`browser host ${args.join(' ')}`);
      return 0;
    },
    log: (line) => lines.push(line),
  };
  return { s, done, lines };
}

describe('npm start', () => {
  it('without an Electron binary builds nothing and runs the browser host, saying so in one line', async () => {
    const { s, done, lines } = steps();
    expect(await start(['--config', 'shop.json'], s)).toBe(0);
    expect(done).toEqual(['browser host --config shop.json']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/Electron is not available .* browser host instead/);
  });

  it('with a binary builds the renderer, the shell and the native modules, then launches Electron', async () => {
    const { s, done, lines } = steps({ binary: '/x/electron' });
    expect(await start(['--kiosk', '--config', 'shop.json'], s)).toBe(0);
    expect(done).toEqual([
      'buildRenderer',
      'buildShell',
      'buildNativeAddons',
      'launch /x/electron --kiosk --config shop.json',
    ]);
    expect(lines).toEqual([]);
  });

  for (const fail of ['buildRenderer', 'buildShell', 'buildNativeAddons'] as const) {
    it(`falls back to the browser host when ${fail} fails, never launching Electron`, async () => {
      const { s, done, lines } = steps({ binary: '/x/electron', fail });
      await start([], s);
      expect(done.some((d) => d.startsWith('launch'))).toBe(false);
      expect(done.at(-1)).toBe('browser host ');
      expect(lines[0]).toMatch(new RegExp(`could not be prepared \\(${fail} failed: no compiler\\)`));
    });
  }

  it('drops --kiosk for the browser host, which has no kiosk mode, and says so', async () => {
    const { s, done, lines } = steps();
    await start(['--kiosk', '--port', '8080'], s);
    expect(done).toEqual(['browser host --port 8080']);
    expect(lines[1]).toMatch(/--kiosk: only the Electron app has a kiosk mode/);
  });

  it('runs the demo issuer host beside the Electron app for the demo shop, and stops it when the app exits', async () => {
    for (const [argv, expected] of [
      [[], ['demo host started', 'launch /x/electron ', 'demo host stopped']],
      [['--config', 'shop.json'], ['launch /x/electron --config shop.json']],
    ] as const) {
      const { s, done } = steps({ binary: '/x/electron' });
      s.startDemoHost = () => {
        done.push('demo host started');
        return { stop: async () => void done.push('demo host stopped') };
      };
      await start([...argv], s);
      expect(done.filter((d) => !d.startsWith('build'))).toEqual(expected);
    }
  });
});
