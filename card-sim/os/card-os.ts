// The card operating system under the applets: power states, APDU parsing, SELECT by AID, response
// chaining with GET RESPONSE (61XX), and the single place where errors become status words.
import { type CommandApdu, encodeResponseApdu, parseCommandApdu } from '../../protocol/apdu.js';
import { equalBytes } from '../../protocol/bytes.js';
import { CardStatusError, SW } from '../../protocol/status-words.js';
import type { VirtualCard } from '../../protocol/virtual-card.js';
import type { Applet } from './applet.js';
import { PowerLossError } from './persistent-store.js';

const INS_SELECT = 0xa4;
const INS_GET_RESPONSE = 0xc0;
/** ISO/IEC 7816-4 interindustry class and the proprietary class; nothing else is answered. */
const CLA_ISO = 0x00;
const CLA_PROPRIETARY = 0x80;

export interface CardOsOptions {
  atr: Uint8Array;
  applets: Applet[];
  /** Re-reads persistent memory at power-up (the store's reload). */
  onPowerUp?: () => void;
}

export class CardOS implements VirtualCard {
  readonly atr: Uint8Array;
  private powered = false;
  private selected: Applet | undefined;
  private pendingResponse: Uint8Array | undefined;
  /** Set when power was cut mid-command; the card stays mute until the next power-up. */
  private torn = false;

  constructor(private readonly options: CardOsOptions) {
    this.atr = options.atr;
  }

  get isPowered(): boolean {
    return this.powered;
  }

  get wasTorn(): boolean {
    return this.torn;
  }

  powerUp(): void {
    this.options.onPowerUp?.();
    this.clearTransient();
    this.powered = true;
    this.torn = false;
  }

  powerDown(): void {
    this.clearTransient();
    this.powered = false;
  }

  reset(): void {
    this.powerUp();
  }

  /** Executes one APDU. An empty result means the card is mute (unpowered or torn). */
  transmit(raw: Uint8Array): Uint8Array {
    if (!this.powered) return new Uint8Array(0);
    try {
      const cmd = parseCommandApdu(raw);
      return this.respond(cmd, this.dispatch(cmd));
    } catch (e) {
      if (e instanceof PowerLossError) {
        this.torn = true;
        this.powerDown();
        return new Uint8Array(0);
      }
      this.pendingResponse = undefined;
      if (e instanceof CardStatusError) return encodeResponseApdu(new Uint8Array(0), e.sw);
      // A bug in applet code must still answer with a status word, never crash the card.
      return encodeResponseApdu(new Uint8Array(0), SW.UNKNOWN);
    }
  }

  private dispatch(cmd: CommandApdu): Uint8Array {
    // Class before instruction (docs/protocol.md §3).
    if ((cmd.cla & 0x03) !== 0 || (cmd.cla & 0x40) !== 0) {
      throw new CardStatusError(SW.LOGICAL_CHANNEL_NOT_SUPPORTED, 'logical channels are not supported');
    }
    if (cmd.cla !== CLA_ISO && cmd.cla !== CLA_PROPRIETARY) throw new CardStatusError(SW.CLA_NOT_SUPPORTED);
    if (cmd.cla === CLA_ISO && cmd.ins === INS_GET_RESPONSE) return this.getResponse();
    this.pendingResponse = undefined;
    if (cmd.cla === CLA_ISO && cmd.ins === INS_SELECT) return this.select(cmd);
    if (!this.selected) throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, 'no application selected');
    return this.selected.process(cmd);
  }

  private select(cmd: CommandApdu): Uint8Array {
    if (cmd.p1 !== 0x04 || (cmd.p2 & 0xf3) !== 0x00) throw new CardStatusError(SW.INCORRECT_P1P2);
    const applet = this.options.applets.find((a) => equalBytes(a.aid, cmd.data));
    if (!applet) throw new CardStatusError(SW.FILE_NOT_FOUND);
    this.selected?.clearTransient();
    this.selected = undefined;
    applet.select();
    this.selected = applet;
    return new Uint8Array(0);
  }

  private getResponse(): Uint8Array {
    if (!this.pendingResponse)
      throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, 'no response data pending');
    const data = this.pendingResponse;
    this.pendingResponse = undefined;
    return data;
  }

  /** Sends at most Ne bytes; the rest waits for GET RESPONSE, announced by 61XX. */
  private respond(cmd: CommandApdu, data: Uint8Array): Uint8Array {
    const limit = cmd.ne === 0 ? (cmd.extended ? 65536 : 256) : cmd.ne;
    if (data.length <= limit) return encodeResponseApdu(data, SW.OK);
    this.pendingResponse = data.slice(limit);
    const remaining = this.pendingResponse.length;
    return encodeResponseApdu(data.slice(0, limit), SW.BYTES_REMAINING | (remaining > 255 ? 0 : remaining));
  }

  private clearTransient(): void {
    this.pendingResponse = undefined;
    this.selected?.clearTransient();
    this.selected = undefined;
  }
}
