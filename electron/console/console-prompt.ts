// The operator console's prompt: one readline over the terminal, whose output goes through a
// MuteStream (mute-stream, npm's own, what npm's `read` uses) so that a PIN is echoed as "*" while it
// is typed and never appears on the screen or in a terminal's scrollback.
import { createInterface } from 'node:readline/promises';
import MuteStream from 'mute-stream';

export interface ConsolePrompt {
  question(prompt: string): Promise<string>;
  /** Asks for a secret: each character typed shows as "*". */
  secret(prompt: string): Promise<string>;
  close(): void;
}

export function consolePrompt(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): ConsolePrompt {
  const mute = new MuteStream({ replace: '*' });
  mute.pipe(output);
  const rl = createInterface({ input, output: mute, terminal: true });
  return {
    question: (prompt) => rl.question(prompt),
    async secret(prompt) {
      mute.unmute();
      mute.write(prompt);
      mute.mute();
      try {
        return await rl.question('');
      } finally {
        mute.unmute();
      }
    },
    close: () => rl.close(),
  };
}
