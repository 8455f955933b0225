import { randomUUID } from 'node:crypto';
import { type CapAlert, formatCapDateTime, writeCap } from '@loa/protocols';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DashboardSystem, screenshot } from './harness.js';

const COMMUNE = '02680';
const SENDER = 'canhbao@kttv.test';
let dash: DashboardSystem;

beforeAll(async () => {
  dash = await DashboardSystem.start({
    fleetAreas: [COMMUNE],
    controllerEnv: {
      // Every Actual alert needs a second person (the default asks it only for district-wide ones).
      ALERT_APPROVAL: 'actual',
      // Alerts are spoken: the issue refuses an alert with no language that can sound.
      TTS_ENGINE: 'espeak-ng',
      CAP_TRUSTED_SENDERS: `${SENDER}=${COMMUNE}`,
      CAP_GEOCODE_NAMES: 'VN-GSO',
    },
  });
}, 120_000);
afterAll(async () => {
  await dash?.stop();
});

interface Dot {
  id: string;
  x: number;
  y: number;
}

/** Every receiver circle on the page's map, by id, with its centre on screen. */
async function receiverDots(page: Page): Promise<Dot[]> {
  return (await page.evaluate(`[...document.querySelectorAll('path.receiver')].map((el) => {
    const box = el.getBoundingClientRect();
    const id = [...el.classList].find((c) => c.startsWith('receiver-')).slice('receiver-'.length);
    return { id, x: box.x + box.width / 2, y: box.y + box.height / 2 };
  })`)) as Dot[];
}

/** Receiver ids whose circle on the map has this state class. */
async function idsInState(page: Page, state: string): Promise<string[]> {
  return (await page.evaluate(
    `[...document.querySelectorAll('path.receiver.state-${state}')].map((el) => [...el.classList].find((c) => c.startsWith('receiver-')).slice(9))`,
  )) as string[];
}

/** The element that has the keyboard focus, by its text. */
const focusedText = (page: Page) => page.evaluate('document.activeElement && document.activeElement.textContent');

/**
 * A rectangle on screen around the right part of the receivers: its left edge in the
 * widest gap between receivers' x (so none sits on an edge), the others 18 px beyond them.
 */
function rectangleOver(dots: Dot[]): { corners: Array<[number, number]>; inside: Set<string> } {
  const xs = [...new Set(dots.map((d) => Math.round(d.x)))].sort((a, b) => a - b);
  let split = 0;
  let widest = 0;
  for (let i = Math.floor(xs.length * 0.3); i < Math.ceil(xs.length * 0.75); i++) {
    const gap = (xs[i + 1] ?? 0) - (xs[i] ?? 0);
    if (gap > widest) {
      widest = gap;
      split = ((xs[i] ?? 0) + (xs[i + 1] ?? 0)) / 2;
    }
  }
  expect(widest, 'a gap between receivers to draw an edge in').toBeGreaterThan(8);
  const right = Math.max(...dots.map((d) => d.x)) + 18;
  const top = Math.min(...dots.map((d) => d.y)) - 18;
  const bottom = Math.max(...dots.map((d) => d.y)) + 18;
  return {
    corners: [
      [split, top],
      [right, top],
      [right, bottom],
      [split, bottom],
    ],
    inside: new Set(dots.filter((d) => d.x > split).map((d) => d.id)),
  };
}

describe('emergency staff in Chromium', () => {
  let inside = new Set<string>();

  it('draws a polygon, issues an alert a second person approves, watches it reach the receivers and cancels it', async () => {
    const operator = await dash.signedIn('emergency-02680');
    await operator.goto(`${dash.url}/app/alerts`);
    await operator.getByRole('heading', { name: 'Cảnh báo thiên tai' }).waitFor();
    await operator.getByText('Không có cảnh báo nào đang hiệu lực.').waitFor();
    await screenshot(operator, 'alerts-console');
    await operator.getByRole('link', { name: 'Soạn cảnh báo mới' }).click();

    // Compose: hazard, level (its colour and name), the template in the text fields.
    await operator.getByRole('heading', { name: 'Soạn cảnh báo' }).waitFor();
    await operator.getByLabel('Loại thiên tai').selectOption('flash_flood');
    await operator.getByLabel(/Cấp 4 — Rủi ro rất lớn/).check();
    await expect
      .poll(() => operator.getByLabel('Tiêu đề (tiếng Việt)').inputValue())
      .toBe('Cảnh báo lũ quét, rủi ro thiên tai cấp 4');
    const instruction = operator.getByLabel('Hướng dẫn cho bà con (tiếng Việt)');
    expect(await instruction.inputValue()).toMatch(/sơ tán ngay/);
    // The operator adds to the template (a longer message also keeps it on air while the test watches).
    await instruction.fill(
      `${await instruction.inputValue()} Lực lượng xung kích của xã đang có mặt tại nhà văn hóa các thôn để hỗ trợ bà con. Bà con giữ liên lạc với trưởng thôn và theo dõi các bản tin tiếp theo trên loa.`,
    );
    await operator.getByRole('button', { name: 'Dùng lại mẫu (thay nội dung đã sửa)' }).waitFor();
    const colour = await operator.evaluate(
      `getComputedStyle(document.querySelector('.risk-option.risk-4')).backgroundColor`,
    );
    expect(colour).toBe('rgb(213, 0, 0)'); // --risk-4, red #D50000 (Decision 18)

    // Draw a rectangle over some of the commune's 25 receivers with mouse clicks on the map.
    await expect.poll(async () => (await receiverDots(operator)).length, { timeout: 15_000 }).toBe(dash.specs.length);
    // The map in view first: the clicks land where the receivers are on screen.
    await operator.locator('.compose-map').scrollIntoViewIfNeeded();
    await operator.getByRole('button', { name: 'Vẽ đa giác' }).click();
    const dots = await receiverDots(operator);
    const drawn = rectangleOver(dots);
    inside = drawn.inside;
    expect(inside.size).toBeGreaterThan(0);
    expect(inside.size).toBeLessThan(dots.length);
    for (const [x, y] of drawn.corners) await operator.mouse.click(x, y);
    const [firstX, firstY] = drawn.corners[0] as [number, number];
    await operator.mouse.click(firstX, firstY); // the first corner again closes the polygon
    await operator.getByText('Đa giác 1 (4 đỉnh)').waitFor();
    await operator.getByText(`Trong vùng cảnh báo: ${inside.size} loa`).waitFor();
    expect(new Set(await idsInState(operator, 'inside'))).toEqual(inside);
    await screenshot(operator, 'alert-compose-polygon');

    // Issue: a real alert asks for confirmation (the confirm button has the focus), then waits for approval.
    await operator.getByRole('button', { name: 'Phát cảnh báo…' }).click();
    const confirm = operator.getByRole('dialog', { name: 'Phát cảnh báo THẬT?' });
    await confirm.waitFor();
    expect(await focusedText(operator)).toBe('Phát ngay');
    await confirm.getByRole('button', { name: 'Phát ngay' }).click();
    await operator.getByRole('heading', { name: 'Đang chờ phê duyệt' }).waitFor();
    await operator.getByText('Chờ phê duyệt', { exact: true }).first().waitFor();
    expect(await operator.getByRole('button', { name: 'Phê duyệt' }).count()).toBe(0);
    expect(await operator.getByRole('button', { name: 'Phát cảnh báo…' }).isDisabled()).toBe(true);
    expect(dash.fleet?.plays.some((p) => p.priority === 'emergency')).toBe(false);

    // The second person, on a phone, finds it in the console and approves it.
    const approver = await dash.signedIn('emergency-10', { width: 360, height: 760 });
    await approver.goto(`${dash.url}/app/alerts`);
    const waiting = approver.getByRole('region', { name: 'Chờ phê duyệt' });
    await waiting.getByRole('link', { name: 'Cảnh báo lũ quét, rủi ro thiên tai cấp 4' }).click();
    await approver.getByRole('heading', { name: 'Đang chờ phê duyệt' }).waitFor();
    // The approver sees the drawn area and the receivers it will reach.
    await approver.getByText(`Trong vùng cảnh báo: ${inside.size} loa`).waitFor();
    expect(new Set(await idsInState(approver, 'inside'))).toEqual(inside);
    expect(await approver.evaluate('document.documentElement.scrollWidth - window.innerWidth')).toBeLessThanOrEqual(0);
    await screenshot(approver, 'alert-approve-phone');
    await approver.getByRole('button', { name: 'Phê duyệt' }).click();
    await approver.getByText(/Đã được .* phê duyệt/).waitFor();

    // The operator's page sees the approval by itself and the operator issues it.
    await operator.getByText(/Đã được .* phê duyệt\. Có thể phát cảnh báo\./).waitFor({ timeout: 10_000 });
    await operator.getByText('Ban chỉ huy PCTT tỉnh (emergency-10)').waitFor();
    await operator.getByText('Ban chỉ huy PCTT xã Y Tý (emergency-02680)').waitFor();
    await operator.getByRole('button', { name: 'Phát cảnh báo…' }).click();
    await operator.getByRole('dialog').getByRole('button', { name: 'Phát ngay' }).click();
    await operator.getByRole('heading', { name: 'Tình hình phát tới các loa' }).waitFor({ timeout: 60_000 });
    await operator.getByText('Đang hiệu lực', { exact: true }).first().waitFor();

    // The alert bar shows it on every page, compact on the approver's phone.
    await approver.goto(`${dash.url}/app/`);
    const phoneBar = approver.getByRole('complementary', { name: 'Cảnh báo đang hiệu lực' });
    await phoneBar.getByRole('link', { name: 'Cảnh báo lũ quét, rủi ro thiên tai cấp 4' }).waitFor({ timeout: 20_000 });
    expect(await approver.evaluate('document.documentElement.scrollWidth - window.innerWidth')).toBeLessThanOrEqual(0);
    await screenshot(approver, 'alert-bar-phone');

    // Live delivery: the receivers inside turn "playing" on the map and in the counts; the others stay outside.
    await expect.poll(async () => new Set(await idsInState(operator, 'started')), { timeout: 30_000 }).toEqual(inside);
    const outside = dots.filter((d) => !inside.has(d.id)).map((d) => d.id);
    expect(new Set(await idsInState(operator, 'outside'))).toEqual(new Set(outside));
    expect(await operator.locator('.legend-started strong').textContent()).toBe(String(inside.size));
    await operator.getByText(`${inside.size} loa nhận cảnh báo: ${inside.size} đang phát`).waitFor();
    await screenshot(operator, 'alert-delivering');
    const airing = () => (dash.fleet?.plays ?? []).filter((p) => p.priority === 'emergency');
    expect(new Set(airing().map((p) => p.receiverId))).toEqual(inside);
    // One alert, one airing per receiver (item id <wire id>.r<revision>.<airing>).
    expect(new Set(airing().map((p) => p.itemId.replace(/\.\d+$/, ''))).size).toBe(1);

    // Cancel in one action from the bar: the confirm button has the focus; Enter cancels.
    const bar = operator.getByRole('complementary', { name: 'Cảnh báo đang hiệu lực' });
    await bar.getByRole('button', { name: /Hủy cảnh báo: Cảnh báo lũ quét/ }).click();
    await operator.getByRole('dialog', { name: 'Hủy cảnh báo này?' }).waitFor();
    expect(await focusedText(operator)).toBe('Hủy cảnh báo ngay');
    const cancelledAt = Date.now();
    await operator.keyboard.press('Enter');
    await bar.getByText(/Đã hủy cảnh báo/).waitFor({ timeout: 5000 });
    expect(Date.now() - cancelledAt).toBeLessThan(5000);
    await operator.getByText('Đã hủy', { exact: true }).first().waitFor({ timeout: 10_000 });

    // The receivers stop at once: on the map (stopped) and in the fleet (every airing ended, none after).
    await expect.poll(async () => new Set(await idsInState(operator, 'stopped')), { timeout: 20_000 }).toEqual(inside);
    await expect.poll(() => airing().every((p) => p.endedAt !== undefined), { timeout: 10_000 }).toBe(true);
    for (const play of airing()) expect((play.endedAt ?? 0) - cancelledAt).toBeLessThan(5000);
    expect(
      await operator.getByRole('complementary', { name: 'Cảnh báo đang hiệu lực' }).getByRole('link').count(),
    ).toBe(0);
    await screenshot(operator, 'alert-cancelled');
    await approver.context().close();
    await operator.context().close();
  }, 150_000);

  it('marks an Exercise unmistakably: compose, alert page, console and alert bar; and shows its CAP', async () => {
    const operator = await dash.signedIn('emergency-02680');
    await operator.goto(`${dash.url}/app/alerts/new`);
    await operator.getByLabel(/Diễn tập/).check();
    await operator.locator('.status-banner.status-exercise').first().waitFor();
    await operator.getByText('DIỄN TẬP', { exact: true }).first().waitFor();
    await operator.getByLabel('Loại thiên tai').selectOption('storm');
    await operator.getByLabel(/Cấp 3 — Rủi ro lớn/).check();
    await operator.getByRole('checkbox', { name: /Thôn Lao Chải/ }).check();
    await operator.getByText('Cảnh báo sẽ tới 5 loa (0 loa đang mất kết nối).').waitFor();
    // The audio preview: the siren of level 3 and the speech, which says first that it is not real.
    await operator.getByRole('button', { name: 'Tạo bản nghe thử' }).click();
    await operator
      .getByText(/^Đây là tin diễn tập, không phải tin thật\. Cảnh báo bão, rủi ro thiên tai cấp 3\./)
      .waitFor({
        timeout: 60_000,
      });
    await operator.getByText('Còi báo động cấp 3').waitFor();
    await expect
      .poll(() =>
        operator.evaluate(`[...document.querySelectorAll('.preview-players audio')].map((a) => a.duration > 0)`),
      )
      .toEqual([true, true]);
    await screenshot(operator, 'alert-compose-exercise');
    await operator.getByRole('button', { name: 'Phát cảnh báo…' }).click();
    await operator.getByRole('dialog', { name: 'Phát bản tin diễn tập / thử nghiệm?' }).waitFor();
    await operator.getByRole('button', { name: 'Phát ngay' }).click();
    // An Exercise needs no approval under ALERT_APPROVAL=actual: it is issued at once.
    await operator.getByRole('heading', { name: 'Tình hình phát tới các loa' }).waitFor({ timeout: 60_000 });
    await operator.locator('article .status-banner.status-exercise').waitFor();
    const exercisePage = operator.url();
    const barItem = operator.locator('.alert-bar-item.status-exercise');
    await barItem.waitFor({ timeout: 20_000 });
    expect(await barItem.textContent()).toMatch(/DIỄN TẬP/);

    await operator.getByRole('button', { name: 'Xem bản tin CAP' }).click();
    const xml = (await operator.locator('.cap-xml').textContent()) ?? '';
    expect(xml).toMatch(/<status>Exercise<\/status>/);
    expect(xml).toMatch(/<msgType>Alert<\/msgType>/);
    await screenshot(operator, 'alert-exercise');

    await operator.goto(`${dash.url}/app/alerts`);
    const card = operator.getByRole('region', { name: 'Đang hiệu lực' }).locator('.alert-card.status-exercise');
    await card.waitFor();
    expect(await card.textContent()).toMatch(/DIỄN TẬP.*Cảnh báo bão, rủi ro thiên tai cấp 3/);
    await screenshot(operator, 'alerts-console-active');
    await operator.getByLabel('Lọc theo trạng thái').selectOption('issued');
    await operator.getByRole('region', { name: 'Đang hiệu lực' }).locator('.alert-card.status-exercise').waitFor();

    // An Update (a correction) raises the level: a new revision, issued, replaces it on the receivers.
    await operator.goto(exercisePage);
    await operator.getByRole('button', { name: 'Cập nhật (sửa) cảnh báo' }).click();
    await operator.getByLabel(/Cấp 4 — Rủi ro rất lớn/).check();
    await operator.getByLabel('Tiêu đề (tiếng Việt)').fill('Cảnh báo bão, rủi ro thiên tai cấp 4');
    await operator.getByRole('button', { name: 'Lưu bản cập nhật' }).click();
    await operator.getByText('bản cập nhật lần 1').waitFor();
    await operator.locator('article .status-banner.status-exercise').waitFor();
    await operator.getByRole('button', { name: 'Phát cảnh báo…' }).click();
    await operator.getByRole('dialog').getByRole('button', { name: 'Phát ngay' }).click();
    await operator.getByRole('heading', { name: 'Tình hình phát tới các loa' }).waitFor({ timeout: 60_000 });
    await operator.getByRole('link', { name: 'Bản trước' }).click();
    await operator.getByText('Đã được cập nhật', { exact: true }).first().waitFor();
    await operator.getByRole('link', { name: 'Cảnh báo bão, rủi ro thiên tai cấp 4' }).first().waitFor();

    // Cancelled from its page (the whole chain), with a reason.
    await operator.locator('article').getByRole('button', { name: 'Hủy cảnh báo' }).click();
    const dialog = operator.getByRole('dialog', { name: 'Hủy cảnh báo này?' });
    await dialog.getByLabel('Lý do (không bắt buộc)').fill('kết thúc diễn tập');
    await dialog.getByRole('button', { name: 'Hủy cảnh báo ngay' }).click();
    await operator.getByText('kết thúc diễn tập').waitFor();
    await operator.context().close();
  }, 90_000);

  it('shows the CAP inbox: what arrived, what the policy made of it, and the alert it became', async () => {
    const operator = await dash.signedIn('emergency-082');
    await operator.goto(`${dash.url}/app/cap`);
    await operator.getByRole('heading', { name: 'Hộp thư CAP' }).waitFor();
    const cap = (sender: string): CapAlert => ({
      identifier: `kttv-${randomUUID()}`,
      sender,
      sent: formatCapDateTime(Date.now(), 420),
      status: 'Exercise',
      msgType: 'Alert',
      scope: 'Public',
      code: [],
      references: [],
      info: [
        {
          language: 'vi-VN',
          category: ['Met'],
          event: 'Lũ quét',
          responseType: ['Evacuate'],
          urgency: 'Immediate',
          severity: 'Severe',
          certainty: 'Likely',
          eventCode: [],
          expires: formatCapDateTime(Date.now() + 3 * 3600_000, 420),
          headline: 'Cảnh báo lũ quét từ Đài khí tượng',
          instruction: 'Di chuyển lên vùng cao.',
          parameter: [{ valueName: 'riskLevel', value: '3' }],
          resource: [],
          area: [{ areaDesc: 'Xã Y Tý', polygon: [], circle: [], geocode: [{ valueName: 'VN-GSO', value: COMMUNE }] }],
        },
      ],
    });
    await operator.getByLabel('Nội dung XML').fill(writeCap(cap(SENDER)));
    await operator.getByRole('button', { name: 'Gửi vào hộp thư' }).click();
    await operator.getByText(/Kết quả: Thành bản nháp/).waitFor();
    await operator.getByLabel('Nội dung XML').fill(writeCap(cap('someone@else.test')));
    await operator.getByRole('button', { name: 'Gửi vào hộp thư' }).click();
    await operator
      .getByRole('alert')
      .getByText(/not trusted/)
      .waitFor();

    const rows = operator.locator('tr.cap-row');
    await expect.poll(() => rows.count()).toBe(2);
    await operator.locator('tr.cap-row.outcome-refused').getByText('Bị từ chối').waitFor();
    const taken = operator.locator('tr.cap-row.outcome-draft');
    await taken.getByText('Thành bản nháp').waitFor();
    await taken.getByText(SENDER).waitFor();
    await screenshot(operator, 'cap-inbox');

    await taken.getByRole('link', { name: 'Cảnh báo lũ quét từ Đài khí tượng' }).click();
    await operator.getByRole('heading', { name: 'Cảnh báo lũ quét từ Đài khí tượng' }).waitFor();
    await operator.getByText('Nguồn tin CAP').waitFor();
    await operator.locator('.status-banner.status-exercise').first().waitFor();

    // In English too.
    await operator.getByLabel('Ngôn ngữ').first().selectOption('en');
    await operator.getByText('EXERCISE', { exact: true }).first().waitFor();
    await operator
      .getByText('Waiting for approval', { exact: true })
      .or(operator.getByText('Draft', { exact: true }))
      .first()
      .waitFor();
    await operator.goto(`${dash.url}/app/cap`);
    await operator.getByRole('heading', { name: 'CAP inbox' }).waitFor();
    await operator.locator('tr.cap-row.outcome-draft').getByText('Became a draft').waitFor();
    await operator.context().close();
  }, 60_000);
});
