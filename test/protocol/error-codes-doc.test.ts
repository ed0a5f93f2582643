// docs/error-codes.md lists every error code with the same text as protocol/errors.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../protocol/errors.js';

describe('docs/error-codes.md', () => {
  it('documents every code with its meaning', () => {
    const doc = readFileSync(join(import.meta.dirname, '../../docs/error-codes.md'), 'utf8');
    for (const [code, meaning] of Object.entries(ERROR_CODES)) {
      expect(doc, code).toContain(`| \`${code}\` | ${meaning} |`);
    }
  });
});
