// The accessibility check of the UI tests: axe-core (Deque's engine, the reference for automated WCAG
// checks, maintained, no dependencies) run inside the page as it is now, failing on any violation of
// serious or critical impact. Injected through the DevTools protocol, so the page's own
// Content-Security-Policy (script-src 'self') does not stop it and the page is not changed otherwise.
import axe from 'axe-core';
import type { Page } from 'playwright-core';

export interface Violation {
  id: string;
  impact: string;
  help: string;
  /** CSS selectors of the offending elements, each with axe's summary of what is wrong there. */
  targets: string[];
}

const BLOCKING = new Set(['serious', 'critical']);

/** The serious and critical violations axe finds in the page (or in the part `include` selects). */
export async function accessibilityViolations(page: Page, include?: string): Promise<Violation[]> {
  if (!(await page.evaluate<boolean>('typeof window.axe === "object"'))) await page.evaluate(axe.source);
  const context = JSON.stringify(include ?? 'html');
  const found = await page.evaluate<
    {
      id: string;
      impact: string | null;
      help: string;
      nodes: { target: unknown[]; failureSummary?: string }[];
    }[]
  >(`window.axe.run(${context}, { resultTypes: ['violations'] }).then((r) => r.violations)`);
  return found
    .filter((v) => BLOCKING.has(v.impact ?? ''))
    .map((v) => ({
      id: v.id,
      impact: v.impact ?? '',
      help: v.help,
      targets: v.nodes.map(
        (n) => `${n.target.map(String).join(' ')} (${(n.failureSummary ?? '').replace(/\s+/g, ' ').trim()})`,
      ),
    }));
}

/** Throws, listing each violation and where it is, if axe finds a serious or critical one. */
export async function expectAccessible(page: Page, what: string, include?: string): Promise<void> {
  const violations = await accessibilityViolations(page, include);
  if (violations.length === 0) return;
  const lines = violations.map(
    (v) => `${v.impact} ${v.id}: ${v.help}\n    at ${v.targets.join('\n    at ')}`,
  );
  throw new Error(`accessibility of ${what}:\n${lines.join('\n')}`);
}
