// `npm run kiosk-pin`: asks for a kiosk exit PIN (twice, on standard input) and prints the salted hash
// to put in the terminal configuration as "kiosk": { "exitPinHash": "…" }.
// `npm run operator-pin -- --id ana --name "Ana" --role cashier`: the same for an operator's PIN, and
// prints the entry to put in the configuration's "operators" list.
// The PIN itself is stored nowhere and never appears on a command line.
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { errorMessage, isTerminalError, TerminalError } from '../../protocol/errors.js';
import { operatorEntrySchema } from '../services/operators/operator-config.js';
import { hashPin, PIN_PATTERN } from '../services/operators/pin-hash.js';

function request(): { what: string; output: (pinHash: string) => unknown } {
  const { values } = parseArgs({
    options: {
      operator: { type: 'boolean' },
      id: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string' },
    },
    strict: true,
  });
  if (!values.operator)
    return { what: 'Kiosk exit PIN', output: (h) => ({ kiosk: { enabled: true, exitPinHash: h } }) };
  const entry = (pinHash: string) => {
    const parsed = operatorEntrySchema.safeParse({
      id: values.id,
      name: values.name,
      role: values.role,
      pinHash,
    });
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new TerminalError('E_INPUT_INVALID', `--${first?.path.join('.')}: ${first?.message}`);
    }
    return parsed.data;
  };
  // Refuse a bad ID, name or role before the PIN is typed (with a placeholder hash).
  entry(hashPin('0000', 'a placeholder', { logN: 10, r: 1, p: 1 }));
  return { what: `PIN of operator ${values.id}`, output: entry };
}

async function main(): Promise<void> {
  const { what, output } = request();
  const lines = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  const input = lines[Symbol.asyncIterator]();
  const ask = async (prompt: string) => {
    process.stderr.write(prompt);
    const answer = await input.next();
    return typeof answer.value === 'string' ? answer.value.trim() : '';
  };
  const pin = await ask(`${what} (4 to 12 digits): `);
  const again = await ask('The same PIN again: ');
  lines.close();
  if (!PIN_PATTERN.test(pin)) throw new TerminalError('E_INPUT_INVALID', 'the PIN must be 4 to 12 digits');
  if (pin !== again) throw new TerminalError('E_INPUT_INVALID', 'the two PINs differ');
  console.log(JSON.stringify(output(hashPin(pin, 'the PIN')), null, 2));
}

try {
  await main();
} catch (e) {
  console.error(
    isTerminalError(e) ? `error ${e.code}: ${e.message}` : `error E_INPUT_INVALID: ${errorMessage(e)}`,
  );
  process.exitCode = 2;
}
