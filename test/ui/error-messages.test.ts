// Every error code the terminal can report has an operator message on the screen (what happened,
// what to do), and the screen has no message for a code that does not exist.
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../protocol/errors.js';
import {
  CRL_REFRESH_MESSAGES,
  explain,
  ISSUER_SESSION_MESSAGES,
  OPERATOR_MESSAGES,
} from '../../renderer/src/error-messages.js';

describe('operator error messages', () => {
  it('cover every code of protocol/errors.ts, each with what happened and what to do', () => {
    for (const code of Object.keys(ERROR_CODES)) {
      const m = OPERATOR_MESSAGES[code];
      expect(m, code).toBeDefined();
      expect(m?.what, code).toMatch(/^[A-Z].{8,}[.!]$/);
      expect(m?.todo, code).toMatch(/^[A-Z].{8,}[.!]$/);
    }
  });

  it('name no code that protocol/errors.ts does not have', () => {
    expect(Object.keys(OPERATOR_MESSAGES).sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('narrow the words of some codes for one action, only for codes that exist', () => {
    for (const context of [CRL_REFRESH_MESSAGES, ISSUER_SESSION_MESSAGES]) {
      for (const [code, m] of Object.entries(context)) {
        expect(Object.keys(ERROR_CODES), code).toContain(code);
        expect(m.what).toMatch(/^[A-Z].{8,}[.!]$/);
        expect(m.todo).toMatch(/^[A-Z].{8,}[.!]$/);
      }
    }
    const offline = { code: 'E_TRANSPORT', message: 'http://crl.example answered HTTP 503', details: {} };
    expect(explain(offline, CRL_REFRESH_MESSAGES).what).toBe('The revocation list could not be downloaded.');
    expect(explain(offline).what).toBe(OPERATOR_MESSAGES.E_TRANSPORT?.what);
    expect(explain({ ...offline, code: 'E_PKI_SIGNATURE' }, CRL_REFRESH_MESSAGES).what).toBe(
      OPERATOR_MESSAGES.E_PKI_SIGNATURE?.what,
    );
  });

  it('keep the code and the service’s detail beside the operator’s words', () => {
    expect(
      explain({ code: 'E_PIN_WRONG', message: 'wrong PIN on the payer card: 2 tries left', details: {} }),
    ).toEqual({
      what: 'Wrong PIN.',
      todo: OPERATOR_MESSAGES.E_PIN_WRONG?.todo,
      detail: 'Wrong PIN on the payer card: 2 tries left.',
      code: 'E_PIN_WRONG',
    });
  });

  it('fall back to the internal-error words for an unknown code, still showing that code', () => {
    const m = explain({ code: 'E_FROM_THE_FUTURE', message: 'something new', details: {} });
    expect(m.what).toBe(OPERATOR_MESSAGES.E_INTERNAL?.what);
    expect(m.code).toBe('E_FROM_THE_FUTURE');
    expect(m.detail).toBe('Something new.');
  });
});
