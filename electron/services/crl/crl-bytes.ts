// A CRL as the terminal receives it, from a file or over HTTP: DER, or PEM text with an "X509 CRL"
// block (RFC 7468 §5). Turned into DER here; parsing and checking it is crl-cache.ts's.
import { TerminalError } from '../../../protocol/errors.js';
import { fromPem } from '../../../protocol/pki/index.js';

const PEM_LABEL = 'X509 CRL';
const DER_SEQUENCE = 0x30;
const PEM_MARKER = '-----BEGIN ';

/**
 * DER or PEM ("X509 CRL" block, text around it allowed). Bytes are DER when they start with a SEQUENCE
 * whose length spans exactly the input, or start with 0x30 and hold no PEM marker (parseCrl then says
 * what is wrong); everything else, e.g. PEM text that happens to begin with "0", is read as PEM.
 */
export function decodeCrlBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 0) throw new TerminalError('E_PKI_MALFORMED', 'the CRL is empty');
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (bytes[0] === DER_SEQUENCE && (spansWholeInput(bytes) || !text.includes(PEM_MARKER))) return bytes;
  return fromPem(text.toString('latin1'), PEM_LABEL);
}

/** The outer TLV's definite length covers the input exactly. */
function spansWholeInput(bytes: Uint8Array): boolean {
  const first = bytes[1];
  if (first === undefined) return false;
  if (first < 0x80) return 2 + first === bytes.length;
  const octets = first & 0x7f;
  if (octets < 1 || octets > 4 || bytes.length < 2 + octets) return false;
  let length = 0;
  for (let i = 0; i < octets; i++) length = length * 256 + bytes[2 + i]!;
  return 2 + octets + length === bytes.length;
}
