// `npm start`: the Electron app where an Electron binary is installed; otherwise one line says so
// and the same services start in an operator console, so the terminal always runs.
import { createRequire } from 'node:module';
import { runConsoleTerminal } from './console/console-terminal.js';

function electronBinary(): string | undefined {
  try {
    // The electron package exports the path of its binary, and throws when the binary is missing.
    const path = createRequire(import.meta.url)('electron') as unknown;
    return typeof path === 'string' ? path : undefined;
  } catch {
    return undefined;
  }
}

const binary = electronBinary();
if (binary) {
  const { spawn } = await import('node:child_process');
  const child = spawn(binary, ['.', ...process.argv.slice(2)], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  console.log('Electron is not available on this machine; starting the terminal in this console instead.');
  process.exitCode = await runConsoleTerminal(process.argv.slice(2));
}
