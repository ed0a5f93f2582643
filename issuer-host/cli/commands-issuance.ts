// `issuer issuance-record`: record at the issuer host the issuance of a card personalized earlier
// (offline, or while the host was down), so that the card's ledger balance is its whole balance
// (docs/issuer-host.md, "Issuance"). Over HTTPS with an issuer-admin token from the host link file,
// like the authority commands: never the host's database.
//
// The value issued is, in this order: --amount; the issuer file's record of the card (its balance
// when personalized); the card file's balance, only while the card has no value-transfer records
// (a card that has paid or been paid no longer holds what was issued on it). Only the card's
// certificate, currency and that amount go to the host.
import { loadCardState } from '../../card-sim/card-files.js';
import { issuanceRequestOf } from '../../card-sim/issuer/issuance-request.js';
import { loadIssuer } from '../../card-sim/issuer/issuer.js';
import { TerminalError } from '../../protocol/errors.js';
import { MAX_ISSUANCE_AMOUNT } from '../../protocol/host-link/issuance-wire.js';
import { defineCommand, integerOption, type ParsedArgs, requireString } from '../../tooling/cli-kit.js';
import { findHostLink, HOST_LINK_FILE, recordIssuanceAtHost } from '../../tooling/issuer-host-link.js';

export const issuanceRecord = defineCommand({
  name: 'issuance-record',
  summary: 'Record a personalized card’s issuance at the issuer host (cards made offline).',
  usage: '--card card.json [--amount N] (--issuer issuer.json | --host-link issuer-host.json)',
  options: {
    card: { type: 'string' },
    amount: { type: 'string' },
    issuer: { type: 'string' },
    'host-link': { type: 'string' },
  },
  help: {
    card: 'the card file: its certificate, currency and (unless the issuer file or --amount says) its balance',
    amount:
      'the value issued on the card, minor units (default: the issuer file’s record, else the card’s balance)',
    issuer: `issuer file: its record of the card, and the host link ${HOST_LINK_FILE} beside it`,
    'host-link': `the issuer host link file (default ${HOST_LINK_FILE} beside --issuer)`,
  },
  async run(args) {
    const cardFile = requireString(args, 'card');
    const card = loadCardState(cardFile);
    const amount = issuedAmount(args, card);
    const link = findHostLink({ explicit: args.values['host-link'], issuerFile: args.values.issuer });
    if (link === undefined) {
      throw new TerminalError(
        'E_INPUT_INVALID',
        `no issuer host link: give --host-link, or --issuer with ${HOST_LINK_FILE} beside it`,
      );
    }
    if (amount === 0) {
      args.out(`card ${card.holderId} was issued with no value: nothing to record`, {
        holderId: card.holderId,
        issuance: null,
      });
      return;
    }
    const { url, issuance } = await recordIssuanceAtHost(link, issuanceRequestOf(card, amount));
    args.out(
      issuance.replayed
        ? `card ${card.holderId}: its issuance of ${issuance.amount} (currency ${issuance.currency}) was recorded at ${url} already, on ${issuance.recordedAt}`
        : `card ${card.holderId}: issuance of ${issuance.amount} (currency ${issuance.currency}) recorded at ${url}`,
      { ...issuance, host: url },
    );
  },
});

function issuedAmount(args: ParsedArgs, card: ReturnType<typeof loadCardState>): number {
  if (args.values.amount !== undefined) return integerOption(args, 'amount', 0, MAX_ISSUANCE_AMOUNT);
  if (typeof args.values.issuer === 'string') {
    const record = loadIssuer(args.values.issuer).issued.find((c) => c.holderId === card.holderId);
    if (!record) throw new TerminalError('E_INPUT_INVALID', 'this card was not issued by this issuer');
    if (record.balance !== undefined) return record.balance;
  }
  if (card.debitLog.length > 0 || card.creditLog.length > 0) {
    throw new TerminalError(
      'E_INPUT_INVALID',
      `card ${card.holderId} has moved value since it was personalized: its balance is not what was issued on it; give --amount`,
    );
  }
  return card.balance;
}
