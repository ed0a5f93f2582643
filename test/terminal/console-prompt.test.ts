// The operator console hides a PIN as it is typed: the terminal shows "*" for each digit, never the
// digit, while the answer is the PIN; an ordinary question echoes what is typed.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { consolePrompt } from '../../electron/console/console-prompt.js';

function fakeTerminal() {
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined });
  const output = Object.assign(new PassThrough(), { isTTY: true, columns: 80 });
  let shown = '';
  output.on('data', (c: Buffer) => {
    shown += c.toString();
  });
  return { input, output, shown: () => shown };
}

describe('the console prompt', () => {
  it('echoes a PIN as stars, never its digits', async () => {
    const t = fakeTerminal();
    const prompt = consolePrompt(t.input, t.output);
    try {
      const answer = prompt.secret('PIN of the payer card: ');
      for (const key of ['4', '8', '2', '9']) t.input.write(key);
      t.input.write('\r');
      expect(await answer).toBe('4829');
      expect(t.shown()).toContain('PIN of the payer card: ');
      expect(t.shown()).toContain('****');
      expect(t.shown()).not.toMatch(/[4829]/);
      // The next question is echoed again.
      const amount = prompt.question('Amount: ');
      t.input.write('12.50\r');
      expect(await amount).toBe('12.50');
      expect(t.shown()).toContain('12.50');
    } finally {
      prompt.close();
    }
  });
});
