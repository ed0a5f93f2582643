import { describe, expect, it } from 'vitest';
import { TerminalError } from '../../../protocol/errors.js';
import { fromPem, toPem } from '../../../protocol/pki/index.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof TerminalError) return e.code;
    throw e;
  }
  return undefined;
}

const der = Uint8Array.from({ length: 100 }, (_, i) => (i * 37) & 0xff);

describe('PEM', () => {
  it('round-trips with 64-character lines', () => {
    const pem = toPem('CERTIFICATE', der);
    const lines = pem.trimEnd().split('\n');
    expect(lines[0]).toBe('-----BEGIN CERTIFICATE-----');
    expect(lines.at(-1)).toBe('-----END CERTIFICATE-----');
    expect(lines[1]).toHaveLength(64);
    expect(fromPem(pem)).toEqual(der);
  });

  it('ignores surrounding text and CRLF line ends, and picks a block by label', () => {
    const text = `Certificate:\n  ...\n${toPem('X509 CRL', Uint8Array.of(1, 2, 3))}${toPem('CERTIFICATE', der)}`;
    expect(fromPem(text)).toEqual(Uint8Array.of(1, 2, 3));
    expect(fromPem(text, 'CERTIFICATE')).toEqual(der);
    expect(fromPem(toPem('CERTIFICATE', der).replace(/\n/g, '\r\n'))).toEqual(der);
  });

  it('rejects bad PEM with E_PKI_MALFORMED', () => {
    const pem = toPem('CERTIFICATE', der);
    expect(codeOf(() => fromPem('no pem here'))).toBe('E_PKI_MALFORMED');
    expect(codeOf(() => fromPem(pem, 'X509 CRL'))).toBe('E_PKI_MALFORMED');
    expect(codeOf(() => fromPem(pem.replace('END CERTIFICATE', 'END X509 CRL')))).toBe('E_PKI_MALFORMED');
    expect(codeOf(() => fromPem(pem.replace(/\n[A-Za-z]/, '\n*')))).toBe('E_PKI_MALFORMED');
    expect(codeOf(() => fromPem('-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n'))).toBe(
      'E_PKI_MALFORMED',
    );
    expect(codeOf(() => fromPem('-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n'))).toBe(
      'E_PKI_MALFORMED',
    );
  });

  it('refuses bad labels and empty DER with E_INPUT_INVALID', () => {
    expect(codeOf(() => toPem('bad-label', der))).toBe('E_INPUT_INVALID');
    expect(codeOf(() => toPem('CERTIFICATE', new Uint8Array(0)))).toBe('E_INPUT_INVALID');
  });
});
