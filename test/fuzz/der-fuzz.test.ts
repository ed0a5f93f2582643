// Quick run of the certificate and CRL fuzzer in `npm test`; the soak command runs the same core long.
import { describe, expect, it } from 'vitest';
import { runDerFuzz } from './der-fuzz.js';

describe('mutated certificates and CRLs', () => {
  it('are refused with a typed error, never verify, and never displace the good CRL', async () => {
    const report = await runDerFuzz({ seed: 6_003, runs: 600 });
    expect(report.failures).toEqual([]);
    expect(report.cases).toBe(600);
    // Every path was taken, and some changed bytes got as far as the signature check.
    for (const path of ['parse', 'card', 'import-der', 'import-file', 'import-pem-file']) {
      expect(
        Object.keys(report.stats).some((k) => k.endsWith(`via ${path}`)),
        path,
      ).toBe(true);
    }
    expect(report.stats['changed certificate parsed']).toBeGreaterThan(0);
    expect(report.stats['changed CRL parsed']).toBeGreaterThan(0);
    expect(report.stats['revocation check after a refused import: E_PKI_REVOKED']).toBeGreaterThan(0);
  });
});
