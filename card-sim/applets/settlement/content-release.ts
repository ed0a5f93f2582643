// Release and return of contents (docs/protocol.md §9.1): a receiver gives up a pending transfer that
// nobody will commit or abort and signs a release proof; the sender takes it to get its item or value
// back. Exactly one of {acceptance, release proof} per transfer. In an exchange the responder's
// release of the first half gives up its own half in the same write, and the initiator never releases
// the second half: so neither card ends with both halves, nor without its own and the other's.
import type { CommandApdu } from '../../../protocol/apdu.js';
import { fromHex, toHex } from '../../../protocol/bytes.js';
import { CONTENT_SIGNATURE_LABEL } from '../../../protocol/settlement/contents-codec.js';
import { CardStatusError, SW } from '../../../protocol/status-words.js';
import type { SettlementContext } from './applet-context.js';
import { CommandData, requireParameters } from './command-data.js';
import {
  abortOutgoing,
  discardSecondHalves,
  record,
  returnOutgoing,
  sign,
  verify,
} from './content-records.js';

/** CONTENT RELEASE: tx; a pending incoming transfer becomes released; answers the release proof (the same one when repeated). */
export function contentRelease(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  const txId = toHex(CommandData.expectLength(cmd.data, 16).bytes(16));
  const r0 = ctx.store.read().contentLog.find((x) => x.txId === txId && x.direction === 'in');
  if (!r0) throw new CardStatusError(SW.REFERENCED_DATA_NOT_FOUND, 'no incoming transfer of this ID');
  if (r0.status === 'released') return fromHex(r0.proof!);
  if (r0.status !== 'pending')
    throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, `the transfer is already ${r0.status}`);
  if (r0.linkTxId) {
    // The initiator's copy of the second half: it decides by committing or aborting its first half.
    throw new CardStatusError(
      SW.CONDITIONS_NOT_SATISFIED,
      'the initiator of an exchange never releases the second half: it aborts its first half',
    );
  }
  return fromHex(
    ctx.store.transaction((s) => {
      const r = record(s, txId, 'in', 'pending');
      r.status = 'released';
      r.proof = sign(s, CONTENT_SIGNATURE_LABEL.RELEASE_PROOF, r);
      // A responder never gives its half for a first half it gave up.
      const ownHalf = s.contentLog.find(
        (x) => x.direction === 'out' && x.linkTxId === txId && x.status === 'open',
      );
      if (ownHalf) abortOutgoing(s, ownHalf);
      return r.proof;
    }),
  );
}

/** CONTENT RETURN: tx ‖ the receiver's release proof; the sender gets its item or value back, or aborts the transfer. */
export function contentReturn(ctx: SettlementContext, cmd: CommandApdu): Uint8Array {
  requireParameters(cmd, [0]);
  const data = CommandData.expectAtLeast(cmd.data, 17);
  const txId = toHex(data.bytes(16));
  const proof = data.rest();
  const s0 = ctx.store.read();
  const r0 = s0.contentLog.find((x) => x.txId === txId && x.direction === 'out');
  if (!r0) throw new CardStatusError(SW.REFERENCED_DATA_NOT_FOUND, 'no outgoing transfer of this ID');
  if (r0.linkTxId) {
    // No genuine release proof of a second half exists; aborting it while the first half is pending
    // here would let this card accept the first half and keep its own.
    throw new CardStatusError(
      SW.CONDITIONS_NOT_SATISFIED,
      'the second half of an exchange is never released',
    );
  }
  if (!verify(s0, CONTENT_SIGNATURE_LABEL.RELEASE_PROOF, r0, proof)) {
    throw new CardStatusError(SW.SECURITY_STATUS_NOT_SATISFIED, 'release proof does not verify');
  }
  if (r0.status === 'aborted' || r0.status === 'returned') return new Uint8Array(0);
  if (r0.status === 'acknowledged')
    throw new CardStatusError(SW.CONDITIONS_NOT_SATISFIED, 'the receiver accepted this transfer');
  ctx.store.transaction((s) => {
    const r = record(s, txId, 'out');
    if (r.status === 'open') abortOutgoing(s, r);
    else returnOutgoing(s, r, proof);
    // An initiator's first half is kept or back: the second half will never come.
    discardSecondHalves(s, txId);
  });
  return new Uint8Array(0);
}
