// ISO/IEC 7816-4 status words used by the settlement applet (docs/protocol.md, "Status words").

export const SW = {
  OK: 0x9000,
  /** 61XX: XX more bytes are available with GET RESPONSE. */
  BYTES_REMAINING: 0x6100,
  /** 63CX: verification failed, X tries left. */
  VERIFICATION_FAILED: 0x63c0,
  MEMORY_FAILURE: 0x6581,
  WRONG_LENGTH: 0x6700,
  /** CLA asks for a logical channel (this applet uses the basic channel only). */
  LOGICAL_CHANNEL_NOT_SUPPORTED: 0x6881,
  SECURITY_STATUS_NOT_SATISFIED: 0x6982,
  AUTH_METHOD_BLOCKED: 0x6983,
  REFERENCE_DATA_NOT_USABLE: 0x6984,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  INCORRECT_DATA: 0x6a80,
  FILE_NOT_FOUND: 0x6a82,
  NOT_ENOUGH_MEMORY: 0x6a84,
  INCORRECT_P1P2: 0x6a86,
  REFERENCED_DATA_NOT_FOUND: 0x6a88,
  /** 6CXX: wrong Le; XX is the exact length. */
  WRONG_LE: 0x6c00,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  UNKNOWN: 0x6f00,
  /** Proprietary (ISO 7816-4 leaves 9XXX to applications): the purse holds less than the amount. */
  INSUFFICIENT_FUNDS: 0x9401,
  /** Proprietary: the credit would take the purse above its maximum balance. */
  MAXIMUM_BALANCE_EXCEEDED: 0x9402,
  /** Proprietary: the payment needs the owner's PIN (cardholder verification policy), sent without it. */
  CARDHOLDER_VERIFICATION_REQUIRED: 0x9403,
} as const;

export type StatusWord = number;

const DESCRIPTIONS: Record<number, string> = {
  [SW.OK]: 'normal processing',
  [SW.MEMORY_FAILURE]: 'memory failure (persistent write did not complete)',
  [SW.WRONG_LENGTH]: 'wrong length',
  [SW.LOGICAL_CHANNEL_NOT_SUPPORTED]: 'logical channel not supported',
  [SW.SECURITY_STATUS_NOT_SATISFIED]:
    'security status not satisfied (MAC, signature or certificate check failed)',
  [SW.AUTH_METHOD_BLOCKED]: 'authentication method blocked (PIN or unblock code blocked)',
  [SW.REFERENCE_DATA_NOT_USABLE]: 'reference data not usable (key ID not newer, over its limit, or not held)',
  [SW.CONDITIONS_NOT_SATISFIED]: 'conditions of use not satisfied (command out of order or state forbids it)',
  [SW.INCORRECT_DATA]: 'incorrect parameters in the command data field',
  [SW.FILE_NOT_FOUND]: 'application not found',
  [SW.NOT_ENOUGH_MEMORY]: 'not enough memory (transaction log full of unsettled records)',
  [SW.INCORRECT_P1P2]: 'incorrect parameters P1-P2',
  [SW.REFERENCED_DATA_NOT_FOUND]: 'referenced data not found',
  [SW.INS_NOT_SUPPORTED]: 'instruction not supported',
  [SW.CLA_NOT_SUPPORTED]: 'class not supported',
  [SW.UNKNOWN]: 'no precise diagnosis',
  [SW.INSUFFICIENT_FUNDS]: 'insufficient funds in the purse',
  [SW.MAXIMUM_BALANCE_EXCEEDED]: 'the purse would exceed its maximum balance',
  [SW.CARDHOLDER_VERIFICATION_REQUIRED]:
    'cardholder verification required (the payment needs the owner’s PIN)',
};

/** 63CX (verification failed): X, the tries left; undefined for any other status word. */
export function verificationTriesLeft(sw: StatusWord): number | undefined {
  return (sw & 0xfff0) === SW.VERIFICATION_FAILED ? sw & 0x0f : undefined;
}

export function describeStatusWord(sw: StatusWord): string {
  const triesLeft = verificationTriesLeft(sw);
  if (triesLeft !== undefined) return `verification failed, ${triesLeft} tries left`;
  if ((sw & 0xff00) === SW.BYTES_REMAINING) return `${sw & 0xff || 256} more bytes available`;
  if ((sw & 0xff00) === SW.WRONG_LE) return `wrong Le, exact length is ${sw & 0xff || 256}`;
  return DESCRIPTIONS[sw] ?? 'unrecognised status word';
}

export function swHex(sw: StatusWord): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}

/** Thrown by card code to answer a command with a status word and no data (vicc's SwError). */
export class CardStatusError extends Error {
  constructor(
    readonly sw: StatusWord,
    detail?: string,
  ) {
    super(`${swHex(sw)}: ${detail ?? describeStatusWord(sw)}`);
    this.name = 'CardStatusError';
  }
}
