// PEM (RFC 7468) framing for certificates and CRLs: base64 in 64-character lines between
// "-----BEGIN <label>-----" and "-----END <label>-----".
import { TerminalError } from '../errors.js';

const LABEL = /^[A-Z0-9]+(?: [A-Z0-9]+)*$/;
const BLOCK = /-----BEGIN ([^\r\n-]*)-----\r?\n([\s\S]*?)-----END ([^\r\n-]*)-----/g;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function toPem(label: string, der: Uint8Array): string {
  if (typeof label !== 'string' || !LABEL.test(label)) {
    throw new TerminalError('E_INPUT_INVALID', `not a PEM label: ${String(label)}`);
  }
  if (!(der instanceof Uint8Array) || der.length === 0)
    throw new TerminalError('E_INPUT_INVALID', 'empty DER');
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.length).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * DER of the first PEM block (the first one labelled `label`, if given). Text around blocks, such
 * as `openssl x509 -text` output, is ignored; headers (encrypted PEM) are not accepted.
 */
export function fromPem(text: string, label?: string): Uint8Array {
  if (typeof text !== 'string') throw new TerminalError('E_PKI_MALFORMED', 'PEM must be a string');
  for (const [, begin, body, end] of text.matchAll(BLOCK)) {
    if (label !== undefined && begin !== label) continue;
    if (begin !== end) throw new TerminalError('E_PKI_MALFORMED', `PEM BEGIN ${begin} ends with END ${end}`);
    const base64 = body!.replace(/\s+/g, '');
    if (base64.length === 0 || !BASE64.test(base64)) {
      throw new TerminalError('E_PKI_MALFORMED', `PEM ${begin} block is not valid base64`);
    }
    return new Uint8Array(Buffer.from(base64, 'base64'));
  }
  throw new TerminalError('E_PKI_MALFORMED', label ? `no PEM ${label} block` : 'no PEM block');
}
