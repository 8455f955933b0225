import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DashboardSystem, screenshot } from './harness.js';

// axe-core (Deque's accessibility rules engine) runs inside the page: WCAG 2.1 A and AA
// (labels, names, contrast, landmarks, keyboard focusability of controls).
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[]; failureSummary?: string }>;
}

let dash: DashboardSystem;
let receiverId: string;
/** The administrator sees every page; one sign-in for all (sign-ins are rate-limited per user). */
let admin: Page;
beforeAll(async () => {
  dash = await DashboardSystem.start({ fleetAreas: ['02680'] });
  receiverId = dash.specs[0]?.receiverId as string;
  admin = await dash.signedIn('admin');
}, 120_000);
afterAll(async () => {
  await dash?.stop();
}, 60_000);

async function violations(page: Page): Promise<Violation[]> {
  await page.addScriptTag({ path: AXE });
  return (await page.evaluate(
    `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) })))`,
  )) as Violation[];
}

const describeViolations = (found: Violation[]) =>
  found
    .map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).join('\n  ')}`)
    .join('\n');

describe('accessibility of every page (axe-core, WCAG 2.1 AA)', () => {
  it('finds no violations on the sign-in page', async () => {
    const page = await dash.browser.newPage();
    await page.goto(`${dash.url}/app/`);
    await page.getByLabel('Tên đăng nhập').waitFor();
    const found = await violations(page);
    expect(found, describeViolations(found)).toEqual([]);
    await page.close();
  });

  for (const [name, path, ready] of [
    ['home', '/app/', /Xin chào/],
    ['schedule', '/app/schedule', /Lịch phát trong tuần/],
    ['new-announcement', '/app/announcements/new', /Thông báo mới|Tạo thông báo/],
    ['schedule-new', '/app/schedule/new', /Lên lịch/],
    ['proof-of-play', '/app/proof-of-play', /Lịch sử phát/],
    ['alerts', '/app/alerts', /Cảnh báo/],
    ['alert-compose', '/app/alerts/new', /Soạn cảnh báo/],
    ['cap-inbox', '/app/cap', /CAP/],
    ['fleet', '/app/fleet', /Mạng lưới loa/],
    ['receiver', '/app/fleet/:receiver', /Cụm loa/],
    ['live', '/app/live', /Phát trực tiếp/],
  ] as const) {
    it(`finds no violations on the ${name} page`, async () => {
      const page = admin;
      await page.goto(`${dash.url}${path.replace(':receiver', receiverId)}`);
      await page.getByRole('heading', { level: 1, name: ready }).first().waitFor({ timeout: 15_000 });
      // Let the page's data arrive (pages that poll never go fully idle: bounded).
      await page.waitForLoadState('networkidle', { timeout: 3000 }).catch(() => {});
      const found = await violations(page);
      if (found.length) await screenshot(page, `a11y-${name}`);
      expect(found, describeViolations(found)).toEqual([]);
    }, 40_000);
  }
});
