// Which key presses a kiosk window lets through. An allow-list, not a list of known escapes: plain
// keys (digits, letters, Enter, Tab, arrows, Backspace, Escape…) and the editing shortcuts of a text
// field pass; function keys and every other Ctrl/Alt/Meta combination (DevTools, reload, print, zoom,
// new window, full screen, menus) are swallowed. Closing keys (Alt+F4, Ctrl/Cmd+W, Ctrl/Cmd+Q) are
// swallowed too and ask the screen for the exit PIN instead. The OS's own escapes (Ctrl+Alt+Del, a
// virtual-terminal switch) never reach the page: lock those in the kiosk's OS session.
import type { KeyInput } from './platform.js';

export type KioskKeyAction = 'allow' | 'block' | 'exit-request';

const EDITING = new Set(['a', 'c', 'v', 'x', 'z', 'y']);
const CLOSING = new Set(['w', 'q']);

export function kioskKeyAction(input: KeyInput): KioskKeyAction {
  const key = input.key.toLowerCase();
  if (input.alt && key === 'f4') return 'exit-request';
  const command = input.control || input.meta;
  if (command && !input.alt && CLOSING.has(key)) return 'exit-request';
  if (/^f\d{1,2}$/.test(key)) return 'block';
  if (input.alt) return 'block';
  if (command) return !input.shift && EDITING.has(key) ? 'allow' : 'block';
  return 'allow';
}
