// Which slot's card the last command of a relay went to, so that a refusal or a failure in the
// middle of a card-to-card relay (authentication, transmission, exchange) can name the card.
import type { CardChannel } from '../../../protocol/card-channel.js';
import { SettlementClient } from '../../../protocol/settlement/settlement-client.js';
import type { CardSession } from '../settlement/card-session.js';
import type { SlotName } from '../slots/reader-slots.js';

export class SlotTracker {
  last: SlotName | undefined;

  /** A client on the session's channel that notes the slot before each command goes out. */
  client(session: CardSession): SettlementClient {
    const channel = session.client.channel;
    const tracked: CardChannel = {
      atr: channel.atr,
      close: () => channel.close(),
      transmit: (apdu, opts) => {
        this.last = session.slot;
        return channel.transmit(apdu, opts);
      },
    };
    return new SettlementClient(tracked);
  }
}
