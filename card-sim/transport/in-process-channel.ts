// The in-process transport: the terminal talks to a VirtualCard object in the same process, with no
// reader, daemon or socket in between. Used by unit tests and the simulator; behaves like a reader
// channel that never times out (VirtualCard.transmit is synchronous and never throws).
import type { CardChannel, TransmitOptions } from '../../protocol/card-channel.js';
import { TerminalError } from '../../protocol/errors.js';
import type { VirtualCard } from '../../protocol/virtual-card.js';

export class InProcessChannel implements CardChannel {
  readonly atr: Uint8Array;
  /** No reader in between: the card's extended-length answers arrive whole. */
  readonly extendedLength = true;
  private closed = false;

  private constructor(private readonly card: VirtualCard) {
    this.atr = card.atr.slice();
  }

  /** Powers the card up and opens a channel to it (the "insert card, SCardConnect" step). */
  static async connect(card: VirtualCard): Promise<InProcessChannel> {
    card.powerUp();
    return new InProcessChannel(card);
  }

  async transmit(apdu: Uint8Array, _opts?: TransmitOptions): Promise<Uint8Array> {
    if (this.closed) throw new TerminalError('E_TRANSPORT', 'the card channel is closed');
    // Copies on both sides so neither party can alias the other's buffers, as over a real wire.
    const response = this.card.transmit(apdu.slice()).slice();
    // A card that lost power mid-command never answers: to the terminal that is a broken exchange.
    if (response.length === 0) throw new TerminalError('E_TRANSPORT', 'the card did not answer (power lost)');
    // A card under a real-time latency model answers when its modelled time has passed.
    const delayMs = this.card.answerDelayMs?.() ?? 0;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    return response;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.card.powerDown();
  }
}
