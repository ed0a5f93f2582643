// The bytes a terminal signs for the issuer host, exactly; the headers that carry the signature and
// how malformed ones are read; and that verification fails for any other request.
import { describe, expect, it } from 'vitest';
import { generateP256KeyPair, sha256Digest } from '../../../protocol/crypto-suite.js';
import {
  readSignedRequestHeaders,
  SIGNED_REQUEST_HEADERS,
  signedRequestBytes,
  signRequest,
  verifyRequestSignature,
} from '../../../protocol/host-link/signed-request.js';
import { SPKI_PIN_PATTERN, spkiPin } from '../../../protocol/host-link/spki-pin.js';

const nonce = Uint8Array.from({ length: 16 }, (_, i) => i);
const body = new TextEncoder().encode('{"software":"t"}');
const parts = {
  method: 'POST',
  path: '/terminal/hello?x=1',
  terminalId: 'T-1',
  timestampMs: 1_700_000_000_123,
  nonce,
  body,
};

describe('signed host requests', () => {
  it('signs exactly these lines', () => {
    const expected = [
      'STL-HOST-REQUEST-1',
      'POST',
      '/terminal/hello?x=1',
      'T-1',
      '1700000000123',
      '000102030405060708090a0b0c0d0e0f',
      Buffer.from(sha256Digest(body)).toString('hex'),
    ].join('\n');
    expect(new TextDecoder().decode(signedRequestBytes(parts))).toBe(expected);
    expect(() => signedRequestBytes({ ...parts, path: '/a b' })).toThrow(RangeError);
    expect(() => signedRequestBytes({ ...parts, path: '/a\nb' })).toThrow(RangeError);
    expect(() => signedRequestBytes({ ...parts, method: 'post' })).toThrow(RangeError);
    expect(() => signedRequestBytes({ ...parts, terminalId: 'T 1' })).toThrow(RangeError);
    expect(() => signedRequestBytes({ ...parts, nonce: nonce.slice(1) })).toThrow(RangeError);
  });

  it('verifies only the request that was signed, with the key that signed it', () => {
    const keys = generateP256KeyPair();
    const headers = signRequest(keys.privateKey, parts, { now: parts.timestampMs, nonce });
    const read = readSignedRequestHeaders(headers);
    if (read.kind !== 'present') throw new Error(read.kind);
    expect(read.credentials).toMatchObject({ terminalId: 'T-1', timestampMs: parts.timestampMs, nonce });
    const signature = read.credentials.signature;
    expect(verifyRequestSignature(keys.publicKey, parts, signature)).toBe(true);
    for (const changed of [
      { method: 'PUT' },
      { path: '/terminal/hello' },
      { terminalId: 'T-2' },
      { timestampMs: parts.timestampMs + 1 },
      { nonce: nonce.map((b) => b ^ 1) },
      { body: new TextEncoder().encode('{"software":"u"}') },
      { path: 'no slash' },
    ]) {
      expect(
        verifyRequestSignature(keys.publicKey, { ...parts, ...changed }, signature),
        JSON.stringify(changed),
      ).toBe(false);
    }
    expect(verifyRequestSignature(generateP256KeyPair().publicKey, parts, signature)).toBe(false);
  });

  it('reads absent, incomplete, repeated and malformed headers as such', () => {
    const headers = signRequest(generateP256KeyPair().privateKey, parts);
    expect(readSignedRequestHeaders({}).kind).toBe('absent');
    const problem = (h: Record<string, string | string[] | undefined>) => {
      const read = readSignedRequestHeaders(h);
      return read.kind === 'malformed' ? read.problem : read.kind;
    };
    expect(problem({ ...headers, [SIGNED_REQUEST_HEADERS.nonce]: undefined })).toMatch(
      /stl-nonce is missing/,
    );
    expect(problem({ ...headers, [SIGNED_REQUEST_HEADERS.terminal]: ['T-1', 'T-2'] })).toMatch(/repeated/);
    expect(problem({ ...headers, [SIGNED_REQUEST_HEADERS.timestamp]: '-5' })).toMatch(/timestamp/);
    expect(problem({ ...headers, [SIGNED_REQUEST_HEADERS.timestamp]: '1'.repeat(16) })).toMatch(/timestamp/);
    expect(problem({ ...headers, [SIGNED_REQUEST_HEADERS.nonce]: 'A'.repeat(32) })).toMatch(/nonce/);
    expect(problem({ ...headers, [SIGNED_REQUEST_HEADERS.signature]: 'not base64!' })).toMatch(/signature/);
    expect(problem({ ...headers, [SIGNED_REQUEST_HEADERS.terminal]: '../x' })).toMatch(/terminal ID/);
  });

  it('writes pins as sha256/<base64 of the SPKI digest>', () => {
    const pin = spkiPin(Uint8Array.of(1, 2, 3));
    expect(pin).toBe(`sha256/${Buffer.from(sha256Digest(Uint8Array.of(1, 2, 3))).toString('base64')}`);
    expect(SPKI_PIN_PATTERN.test(pin)).toBe(true);
  });
});
