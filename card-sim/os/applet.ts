// An applet holds business logic; the card OS gives it parsed commands and turns its
// CardStatusError throws into status words (vicc's instruction-table pattern).
import type { CommandApdu } from '../../protocol/apdu.js';

export interface Applet {
  readonly aid: Uint8Array;
  /** Called when SELECT picks this applet; may refuse with a CardStatusError. */
  select(): void;
  /** Clears transient (RAM) state: on deselect, reset and power loss. */
  clearTransient(): void;
  /** Handles one command; returns the response data (status 9000) or throws CardStatusError. */
  process(cmd: CommandApdu): Uint8Array;
}

export type CommandHandler = (cmd: CommandApdu) => Uint8Array;
