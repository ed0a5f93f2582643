// `npm run start:console`: the operator console (line-based), on the same services.
import { runConsoleTerminal } from './console-terminal.js';

process.exitCode = await runConsoleTerminal(process.argv.slice(2));
