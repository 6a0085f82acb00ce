/**
 * An axe-core audit of the page a playwright `Page` shows. The engine is evaluated in the page
 * from the installed axe-core (no CDN) through the DevTools protocol rather than a <script>
 * tag, which the dashboard's self-only Content-Security-Policy rightly refuses; the policy
 * stays in force for the page under test.
 */
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';

/** The impacts that fail an audit: the ones that lock someone out, not the advisory ones. */
const BLOCKING = new Set(['serious', 'critical']);

export interface AccessibilityViolation {
  readonly rule: string;
  readonly impact: string;
  readonly help: string;
  readonly targets: string[];
}

let engine: Promise<string> | undefined;

/** The serious and critical violations on the page as it is now (empty when it passes). */
export async function auditAccessibility(page: Page): Promise<AccessibilityViolation[]> {
  engine ??= readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  const source = await engine;
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(source);
  const found = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document) => Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
    const result = await axe.run(document);
    return result.violations.map((v) => ({ rule: v.id, impact: v.impact ?? 'unknown', help: v.help, targets: v.nodes.map((n) => n.target.map(String).join(' ')) }));
  });
  return found.filter((v) => BLOCKING.has(v.impact));
}

/** One line per violation, for a failure message that says what to fix and where. */
export function describeViolations(page: string, violations: readonly AccessibilityViolation[]): string[] {
  return violations.map((v) => `${page}: ${v.rule} (${v.impact}) ${v.help} at ${v.targets.slice(0, 5).join(', ')}`);
}
