// Stands in for the `bindings` package inside the Electron main bundle (shell-build/build-shell.ts
// aliases it): `bindings('pcsclite')` or `bindings('better_sqlite3.node')` load the addon built for
// Electron from dist-electron/native/ of the app (unpacked from the asar archive when packaged).
import { join } from 'node:path';
import { app } from 'electron';
import { loadNativeAddon } from './native-addon.js';

export const NATIVE_ADDON_DIR = ['dist-electron', 'native'] as const;

export function electronBindings(name: string): unknown {
  return loadNativeAddon(join(app.getAppPath(), ...NATIVE_ADDON_DIR), name);
}
