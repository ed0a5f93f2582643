// The preload of the operator window. It runs sandboxed (no Node.js), before the page, in its own
// isolated world, and gives the page exactly one thing: `window.terminal`, the contract's channels and
// events (shell/preload-bridge.ts). Bundled alone into dist-electron/preload.cjs, requiring only 'electron'.
import { contextBridge, ipcRenderer } from 'electron';
import { createTerminalBridge } from './shell/preload-bridge.js';

contextBridge.exposeInMainWorld('terminal', createTerminalBridge(ipcRenderer));
