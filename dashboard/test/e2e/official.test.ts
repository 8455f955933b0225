import { encodeWav16 } from '@loa/simulator';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DashboardSystem, screenshot } from './harness.js';

/**
 * The officials' flow of issue 9's "Done when": official-02680 makes a two-language
 * announcement in the browser (Vietnamese by speech, Hmong from an uploaded WAV), sees
 * the conflict check, schedules it as soon as possible, finds it on the week calendar,
 * and watches the commune's simulated receivers play it on the proof-of-play page.
 */
let dash: DashboardSystem;
const COMMUNE = '02680';
const RECEIVERS = 25; // 5 villages × 5 loudspeaker clusters in the demo commune
const TITLE = `Họp dân thôn ${Date.now() % 100_000}`;
const VIETNAM_MS = 7 * 3600_000;
/** A Vietnam wall-clock date (YYYY-MM-DD) `days` from today. */
const vietnamDate = (days: number) => new Date(Date.now() + VIETNAM_MS + days * 86_400_000).toISOString().slice(0, 10);

/** Two seconds of a 440 Hz tone at 16 kHz: a stand-in for a Hmong recording. */
function sineWav(): Buffer {
  const sampleRate = 16_000;
  const samples = new Int16Array(sampleRate * 2);
  for (let i = 0; i < samples.length; i++)
    samples[i] = Math.round(Math.sin((2 * Math.PI * 440 * i) / sampleRate) * 9000);
  return encodeWav16({ sampleRate, samples });
}

const overflow = (page: Page) =>
  page.evaluate('document.documentElement.scrollWidth - window.innerWidth') as Promise<number>;

beforeAll(async () => {
  dash = await DashboardSystem.start({ fleetAreas: [COMMUNE], controllerEnv: { TTS_ENGINE: 'espeak-ng' } });
}, 120_000);
afterAll(async () => {
  await dash?.stop();
}, 60_000);

describe('a commune official in Chromium', () => {
  let page: Page;
  /** A second tab on the proof-of-play page, opened before the airtime and never reloaded. */
  let proof: Page;
  let scheduleId = '';
  let occurrenceId = '';
  let startsAt = 0;
  // What the page showed when a step failed, to tell a slow machine from a broken page.
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail' && page && !page.isClosed())
      await screenshot(page, `official-failed-${context.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => {});
  });

  it('creates a two-language announcement: speech previewed, a refused file, then an uploaded WAV', async () => {
    page = await dash.signedIn(`official-${COMMUNE}`);
    await page.getByRole('navigation').getByRole('link', { name: 'Thông báo mới' }).click();
    await page.getByRole('heading', { name: 'Tạo thông báo mới' }).waitFor();
    await page.getByLabel('Tiêu đề thông báo').fill(TITLE);
    // The commune's languages in airing order: Vietnamese, Hmong, Dao.
    const vie = page.getByRole('group', { name: /^1\. Tiếng Việt/ });
    const hmn = page.getByRole('group', { name: /^2\. Tiếng H'Mông/ });
    const ium = page.getByRole('group', { name: /^3\. Tiếng Dao/ });

    // Speech is made while the Hmong file goes up.
    await vie.getByLabel('Nội dung để máy đọc (Tiếng Việt)').fill('Mời bà con thôn đến nhà văn hoá lúc 19:30 tối nay.');
    await vie.getByRole('button', { name: 'Nghe thử' }).click();

    // Not audio: the controller's refusal is shown, named in Vietnamese, with its detail.
    const file = hmn.getByLabel("Tệp âm thanh (Tiếng H'Mông)");
    await file.setInputFiles({
      name: 'bien-ban.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('Biên bản họp thôn\n'.repeat(50)),
    });
    await expect
      .poll(() => hmn.getByRole('alert').textContent(), { timeout: 30_000 })
      .toContain('Tệp không phải âm thanh');
    await file.setInputFiles({ name: 'thong-bao-hmong.wav', mimeType: 'audio/wav', buffer: sineWav() });

    await vie.getByText(/Sẵn sàng, dài \d+:\d\d/).waitFor({ timeout: 60_000 });
    expect(await vie.getByText(/Máy sẽ đọc là:.*mười chín giờ ba mươi/).count()).toBeGreaterThan(0);
    expect(await vie.getByLabel('Bản nghe thử Tiếng Việt').getAttribute('src')).toMatch(/^\/assets\/[0-9a-f]{64}$/);
    await hmn.getByText(/Sẵn sàng, dài 0:0[12]/).waitFor({ timeout: 45_000 });

    // The recorder (Chromium's fake microphone beeps): record, stop, listen, use it — then
    // decide against it; the announcement stays two-language.
    await ium.getByLabel('Ghi âm tại đây').check();
    await ium.getByRole('button', { name: 'Bắt đầu ghi âm' }).click();
    await ium.getByText(/Đang ghi… 0:0[2-9]/).waitFor({ timeout: 10_000 });
    await ium.getByRole('button', { name: 'Dừng ghi' }).click();
    expect(await ium.getByLabel('Bản vừa ghi (nghe lại trước khi dùng)').getAttribute('src')).toMatch(/^blob:/);
    await ium.getByRole('button', { name: 'Dùng bản ghi này' }).click();
    await ium.getByText(/Sẵn sàng, dài 0:0\d/).waitFor({ timeout: 45_000 });
    await ium.getByLabel('Chưa có bản này').check();
    await page.getByText('Chưa có bản: Tiếng Dao').waitFor();
    await screenshot(page, 'official-announcement-new');

    await page.getByRole('button', { name: 'Lưu thông báo' }).click();
    await page.getByRole('heading', { name: 'Đã lưu thông báo' }).waitFor();
    await page.getByText(/Tiếng H'Mông: âm thanh, dài 0:0[12]/).waitFor();
    await page.getByRole('link', { name: 'Lên lịch phát thông báo này' }).click();
  }, 120_000);

  it('sees conflicts before saving, updated as the form changes, then schedules it as soon as possible', async () => {
    await page.getByRole('heading', { name: 'Lên lịch phát' }).waitFor();
    await expect.poll(() => page.getByLabel('Tên lịch phát').inputValue(), { timeout: 15_000 }).toBe(TITLE);
    expect(await page.getByRole('checkbox', { name: new RegExp(`^Xã Y Tý \\(${COMMUNE}\\)`) }).isChecked()).toBe(true);
    const check = page.getByRole('region', { name: 'Kiểm tra trùng lịch' });

    // Tomorrow 17:35 overlaps the demo's evening bulletin (17:30–17:45 daily, same priority).
    await page.getByLabel('Bắt đầu (giờ Việt Nam)').fill(`${vietnamDate(1)}T17:35`);
    await check.getByText(/Trùng với \d+ lần phát khác/).waitFor({ timeout: 20_000 });
    expect(await check.getByText(/Bản tin chiều – Xã Y Tý/).count()).toBeGreaterThan(0);
    expect(await check.textContent()).toContain(`trên ${RECEIVERS} loa`);
    expect(await page.getByRole('button', { name: 'Lưu lịch phát' }).isDisabled()).toBe(true);
    await screenshot(page, 'official-schedule-conflict');

    // Priority: aired ahead of the commune's normal programmes, whenever the test runs.
    await page.getByRole('radio', { name: /^Ưu tiên/ }).check();
    await page.getByRole('button', { name: 'Phát sớm nhất' }).click();
    await check.getByText(`1 lần phát trong 7 ngày tới, tới ${RECEIVERS} loa.`).waitFor({ timeout: 20_000 });
    // Near a demo programme's airtime "as soon as possible" may overlap it too: accept, as an official would.
    if (await check.getByText(/Trùng với/).count()) await page.getByLabel(/Vẫn lưu dù trùng lịch/).check();
    else await check.getByText('Không trùng với lịch nào.').waitFor();
    await screenshot(page, 'official-schedule');

    await page.getByRole('button', { name: 'Lưu lịch phát' }).click();
    await page.getByRole('heading', { name: 'Đã lên lịch' }).waitFor();
    await page.getByRole('heading', { name: 'Các lần phát tới' }).waitFor();
    await page.locator('.next-airtimes li').first().waitFor();
    expect(await page.locator('.next-airtimes li').count()).toBe(1);
    const href = await page.getByRole('link', { name: 'Xem lịch sử phát' }).getAttribute('href');
    scheduleId = /schedule=([0-9a-f-]{36})/.exec(href ?? '')?.[1] ?? '';
    expect(scheduleId).not.toBe('');

    const api = await dash.system.as(`official-${COMMUNE}`);
    const from = new Date(Date.now() - 3600_000).toISOString();
    const to = new Date(Date.now() + 3600_000).toISOString();
    const timeline = await api.get<{ items: Array<{ occurrenceId: string; scheduleId: string; startsAt: string }> }>(
      `/timeline?area=${COMMUNE}&from=${from}&to=${to}`,
    );
    const occurrence = timeline.items.find((i) => i.scheduleId === scheduleId);
    occurrenceId = occurrence?.occurrenceId ?? '';
    startsAt = Date.parse(occurrence?.startsAt ?? '');
    expect(startsAt - Date.now()).toBeGreaterThan(20_000);
    expect(startsAt - Date.now()).toBeLessThan(65_000);

    proof = await page.context().newPage();
    await proof.goto(`${dash.url}/app/proof-of-play?schedule=${scheduleId}`);
    await proof.getByRole('heading', { name: 'Lịch sử phát' }).waitFor();
    const rows = proof.locator('table.deliveries tbody tr');
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(RECEIVERS);
    // Loaded before the airtime: what this tab shows later can only come from live updates.
    expect(Date.now()).toBeLessThan(startsAt);
    expect(await rows.filter({ hasText: 'Đã phát xong' }).count()).toBe(0);
  }, 60_000);

  it('finds it on the week calendar with its priority named, and opens its details', async () => {
    await page.getByRole('link', { name: 'Xem trên lịch tuần' }).click();
    await page.getByRole('heading', { name: 'Lịch phát trong tuần' }).waitFor();
    const item = page.getByRole('button', { name: new RegExp(`Ưu tiên ${TITLE}`) });
    await item.waitFor();
    expect(await item.textContent()).toContain('Ưu tiên');
    expect(await item.getAttribute('class')).toContain('priority-priority');
    await item.click();
    const panel = page.getByRole('complementary', { name: TITLE });
    await panel.getByText('Một lần').waitFor();
    expect(await panel.textContent()).toContain('Đúng giờ');
    expect(await panel.textContent()).toContain(COMMUNE);
    await screenshot(page, 'official-calendar');
  }, 30_000);

  it('cancels another airtime from the calendar after confirming', async () => {
    const api = await dash.system.as(`official-${COMMUNE}`);
    const content = await api.get<{ items: Array<{ id: string; title: string }> }>(
      `/content?area=${COMMUNE}&limit=200`,
    );
    const contentId = content.items.find((c) => c.title === TITLE)?.id;
    const day = vietnamDate(2);
    await api.post('/schedules', {
      title: `${TITLE} (nhắc lại)`,
      contentId,
      startLocal: `${day}T12:10:00`,
      durationMs: 120_000,
      priority: 'normal',
      startMode: 'next',
      volume: 80,
      targets: { areas: [COMMUNE] },
    });
    await page.goto(`${dash.url}/app/schedule?week=${day}`);
    const item = page.getByRole('button', { name: new RegExp(`Thông thường ${TITLE} \\(nhắc lại\\)`) });
    await item.click();
    const panel = page.getByRole('complementary', { name: `${TITLE} (nhắc lại)` });
    await panel.getByRole('button', { name: 'Huỷ lần phát này' }).click();
    await panel.getByRole('group', { name: /^Huỷ lần phát/ }).waitFor();
    await panel.getByLabel('Lý do (không bắt buộc)').fill('Trùng lịch họp');
    await panel.getByRole('button', { name: 'Đồng ý huỷ' }).click();
    await panel.getByText(`Đã huỷ lần phát (${RECEIVERS} loa).`).waitFor();
    await page.getByRole('button', { name: new RegExp(`Thông thường ${TITLE} \\(nhắc lại\\) \\(đã huỷ\\)`) }).waitFor();
  }, 30_000);

  it('fits a 360 px phone, in English: the calendar as a day list, and every page without sideways scrolling', async () => {
    const phone = await dash.signedIn(`official-${COMMUNE}`, { width: 360, height: 740, language: 'en' });
    await phone.goto(`${dash.url}/app/schedule`);
    await phone.getByRole('heading', { name: 'This week’s schedule' }).waitFor();
    await phone.locator('.day-list').waitFor();
    expect(await phone.locator('.week-grid').count()).toBe(0);
    await phone.getByRole('button', { name: new RegExp(`${TITLE}.*Priority`) }).waitFor();
    expect(await overflow(phone)).toBeLessThanOrEqual(0);
    await screenshot(phone, 'official-calendar-phone');
    for (const [path, heading] of [
      ['announcements/new', 'New announcement'],
      ['schedule/new', 'Schedule an announcement'],
      [`proof-of-play?schedule=${scheduleId}`, 'Proof of play'],
    ] as const) {
      await phone.goto(`${dash.url}/app/${path}`);
      await phone.getByRole('heading', { name: heading, exact: true }).waitFor();
      await phone.waitForLoadState('networkidle');
      expect(await overflow(phone), path).toBeLessThanOrEqual(0);
      if (path === 'announcements/new') await screenshot(phone, 'official-announcement-new-phone');
    }
    await phone.context().close();
  }, 30_000);

  it('watches the receivers play it on the proof-of-play page, live', async () => {
    const rows = proof.locator('table.deliveries tbody tr');
    await expect
      .poll(() => rows.filter({ hasText: 'Đã phát xong' }).count(), { timeout: 120_000, interval: 1000 })
      .toBe(RECEIVERS);
    expect(await proof.getByText(`Đã tải ${RECEIVERS} lượt — Đã phát xong: ${RECEIVERS}`).count()).toBe(1);
    // Each row gets when it started and ended playing (fetched again after the live change).
    const time = /\d{2}:\d{2}:\d{2}/;
    await expect
      .poll(() => proof.locator('tbody td:nth-child(5)', { hasText: time }).count(), { timeout: 10_000 })
      .toBe(RECEIVERS);
    await expect
      .poll(() => proof.locator('tbody td:nth-child(6)', { hasText: time }).count(), { timeout: 10_000 })
      .toBe(RECEIVERS);
    await screenshot(proof, 'official-proof-of-play');

    // And the receivers really sounded it: both languages, whole, on every receiver of the commune.
    const plays = dash.fleet?.plays.filter((p) => p.itemId === occurrenceId && p.result === 'finished') ?? [];
    expect(new Set(plays.map((p) => p.receiverId)).size).toBe(RECEIVERS);
    for (const play of plays) {
      expect(play.languages).toEqual(['vie', 'hmn']);
      expect(play.priority).toBe('priority');
    }
    const started = plays.map((p) => p.startedAtControllerTime ?? p.startedAt ?? 0);
    expect(Math.min(...started)).toBeGreaterThanOrEqual(startsAt - 1000);
    await page.context().close();
  }, 150_000);
});
