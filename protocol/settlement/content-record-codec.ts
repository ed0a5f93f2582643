// CONTENT STATUS answers (docs/protocol.md §9): one `E3` template per content transfer record, never
// an item body.
import { readU32 } from '../bytes.js';
import { findTlv, parseTlvList } from '../tlv.js';
import { malformedGuard } from './response-checks.js';

export interface ContentTransferRecord {
  direction: 'out' | 'in';
  status: ContentTransferStatus;
  txId: Uint8Array;
  peerId: Uint8Array;
  linkTxId?: Uint8Array;
  kind: 'item' | 'value';
  exchangeInitiator: boolean;
  amount: number;
  digest: Uint8Array;
  itemId?: Uint8Array;
  proof?: Uint8Array;
}

/** Status codes of content records (CONTENT STATUS tag C1). */
export const CONTENT_STATUS_CODE = {
  open: 0x01,
  deleted: 0x02,
  acknowledged: 0x03,
  aborted: 0x04,
  returned: 0x05,
  pending: 0x11,
  accepted: 0x12,
  discarded: 0x13,
  released: 0x14,
} as const;
export type ContentTransferStatus = keyof typeof CONTENT_STATUS_CODE;

const STATUS_NAME = new Map<number, ContentTransferStatus>(
  Object.entries(CONTENT_STATUS_CODE).map(([name, code]) => [code, name as ContentTransferStatus]),
);

export function decodeContentRecords(data: Uint8Array): ContentTransferRecord[] {
  return malformedGuard('content transfer records', () =>
    parseTlvList(data).map((t) => {
      if (t.tag !== 0xe3) throw new Error('not a content transfer record');
      const f = parseTlvList(t.value);
      const need = (tag: number, length?: number) => {
        const v = findTlv(f, tag);
        if (!v || (length !== undefined && v.length !== length))
          throw new Error(`field ${tag.toString(16)} missing`);
        return v;
      };
      const direction = need(0xc0, 1)[0] === 1 ? ('out' as const) : ('in' as const);
      const status = STATUS_NAME.get(need(0xc1, 1)[0]!);
      // An outgoing record carries a sender's state (0X), an incoming one a receiver's (1X).
      if (!status || (direction === 'out') !== CONTENT_STATUS_CODE[status] < 0x10)
        throw new Error('unknown status');
      const link = need(0xc4, 16);
      const flags = need(0xc5, 2);
      const itemId = findTlv(f, 0xc9);
      const proof = findTlv(f, 0xc8);
      return {
        direction,
        status,
        txId: need(0xc2, 16),
        peerId: need(0xc3, 16),
        ...(link.some((b) => b !== 0) ? { linkTxId: link } : {}),
        kind: flags[0] === 1 ? ('value' as const) : ('item' as const),
        exchangeInitiator: flags[1] === 1,
        amount: readU32(need(0xc6, 4)),
        digest: need(0xc7, 32),
        ...(itemId ? { itemId } : {}),
        ...(proof ? { proof } : {}),
      };
    }),
  );
}
