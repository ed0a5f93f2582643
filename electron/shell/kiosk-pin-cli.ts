// `npm run kiosk-pin`: asks for a kiosk exit PIN (twice, on standard input) and prints the salted hash
// to put in the terminal configuration as "kiosk": { "exitPinHash": "…" }. The PIN itself is stored
// nowhere and never appears on a command line.
import { createInterface } from 'node:readline/promises';
import { isTerminalError } from '../../protocol/errors.js';
import { EXIT_PIN_PATTERN, hashExitPin } from './kiosk-exit-pin.js';

const lines = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
const input = lines[Symbol.asyncIterator]();
const ask = async (prompt: string) => {
  process.stderr.write(prompt);
  const answer = await input.next();
  return typeof answer.value === 'string' ? answer.value.trim() : '';
};
const pin = await ask('Kiosk exit PIN (4 to 12 digits): ');
const again = await ask('The same PIN again: ');
lines.close();
if (!EXIT_PIN_PATTERN.test(pin)) {
  console.error('error E_INPUT_INVALID: the kiosk exit PIN must be 4 to 12 digits');
  process.exitCode = 2;
} else if (pin !== again) {
  console.error('error E_INPUT_INVALID: the two PINs differ');
  process.exitCode = 2;
} else {
  try {
    console.log(JSON.stringify({ kiosk: { enabled: true, exitPinHash: hashExitPin(pin) } }, null, 2));
  } catch (e) {
    console.error(isTerminalError(e) ? `error ${e.code}: ${e.message}` : String(e));
    process.exitCode = 1;
  }
}
