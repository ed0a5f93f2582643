// The contract's receipts and demo card tray: a flow's receipt as the screen shows and prints it, the
// same exported as PDF or ESC/POS bytes (delivered by the host: downloaded in the browser, saved
// through a dialog in the Electron app), and the tray's cards moved between the slots and the tray.
import { TerminalError } from '../../protocol/errors.js';
import type { TrayViewWire } from './contract-shop.js';
import { type DocumentDelivery, pageDownload } from './document-delivery.js';
import type { HandlerServices, Handlers } from './handlers.js';
import type { ShopSupport } from './shop-support.js';

type DocumentChannel = 'receipts:get' | 'receipts:export' | 'tray:status' | 'tray:move';

export function documentHandlers(s: HandlerServices, shop: ShopSupport): Pick<Handlers, DocumentChannel> {
  const delivery: DocumentDelivery = s.documents ?? pageDownload;
  const tray = (): TrayViewWire =>
    s.tray ? { available: true, cards: s.tray.cards() } : { available: false, cards: [] };
  return {
    'receipts:get': async ({ flowId }, ctx) => shop.receipts.receipt(flowId, ctx.screen),
    'receipts:export': async ({ flowId, format }, ctx) =>
      delivery.deliver(await shop.receipts.export(flowId, format, ctx.screen)),
    'tray:status': async () => tray(),
    'tray:move': async ({ card, to }) => {
      if (!s.tray) {
        throw new TerminalError(
          'E_INPUT_INVALID',
          'this terminal has no demo card tray: its cards are in real readers',
        );
      }
      s.tray.move(card, to);
      return tray();
    },
  };
}
