import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeWav16 } from '@loa/simulator';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DashboardSystem, screenshot } from './harness.js';

/** Where the receivers' recordings of each session go (what each one really sounded). */
const wavDir = mkdtempSync(join(tmpdir(), 'loa-live-e2e-'));

/** The loudest 100 ms of a recording, as RMS in dBFS. */
function loudestDbfs(path: string): number {
  const { sampleRate, samples } = decodeWav16(readFileSync(path));
  const window = Math.round(sampleRate / 10);
  let loudest = 0;
  for (let start = 0; start + window <= samples.length; start += window) {
    let sum = 0;
    for (let i = start; i < start + window; i++) sum += ((samples[i] ?? 0) / 32768) ** 2;
    loudest = Math.max(loudest, Math.sqrt(sum / window));
  }
  return 20 * Math.log10(Math.max(loudest, 1e-9));
}

let dash: DashboardSystem;
beforeAll(async () => {
  dash = await DashboardSystem.start({ fleetAreas: ['02680'], liveWavDir: wavDir });
}, 90_000);
afterAll(async () => {
  await dash?.stop();
  rmSync(wavDir, { recursive: true, force: true });
}, 60_000);
/** Each test's pages are closed after it, passed or failed: an open page would hold its session. */
const pages: Page[] = [];
afterEach(async () => {
  for (const page of pages.splice(0))
    await page
      .context()
      .close()
      .catch(() => {});
});

interface SessionRow {
  id: string;
  title: string;
  state: string;
  endReason: string | null;
  framesSent: number;
}

/** The newest session with this title, as the controller lists it to the official. */
async function sessionTitled(title: string): Promise<SessionRow | undefined> {
  const client = await dash.system.as('official-02680');
  const { items } = await client.get<{ items: SessionRow[] }>('/live/sessions?limit=20');
  return items.find((s) => s.title === title);
}

/** The meter's reading (its value, dBFS; −60 is the floor: silence). */
async function meterValue(page: Page): Promise<number> {
  const value = await page.getByRole('meter', { name: /Mức âm micro|Microphone level/ }).getAttribute('value');
  return Number(value ?? Number.NaN);
}

/** The page's own "speaking for m:ss" clock, in seconds (−1 while it is not shown). */
async function secondsOnAir(page: Page): Promise<number> {
  const text = (await page.getByRole('timer').allTextContents()).join(' ');
  const match = /Đã nói (\d+):(\d\d)/.exec(text);
  return match ? Number(match[1]) * 60 + Number(match[2]) : -1;
}

async function openLivePage(page: Page): Promise<void> {
  await page.goto(`${dash.url}/app/live`);
  await page.getByRole('heading', { name: 'Phát trực tiếp', level: 1 }).waitFor();
  // The official's own commune is chosen at first.
  await expect.poll(() => page.getByRole('checkbox', { name: /Y Tý/ }).isChecked(), { timeout: 10_000 }).toBe(true);
}

describe('live speech from the browser', () => {
  it('an official tests the microphone, holds to talk, goes on air and releases; every receiver of the commune plays it', async () => {
    const receivers = dash.specs.map((s) => s.receiverId);
    expect(receivers.length).toBeGreaterThan(0);
    const page = await dash.signedIn('official-02680');
    pages.push(page);
    await openLivePage(page);
    await page.getByLabel(/^Tiêu đề/).fill('Họp thôn tối nay');
    // A second of delay at the receivers: this machine runs the whole fleet next to the
    // browser, the controller and other tests, so their timers run late (so does 3G).
    await page.getByLabel('Đường truyền tới loa').selectOption({ label: 'Yếu — trễ 1 giây' });

    // Chromium's fake microphone plays a beep: the meter rises above silence before going on air.
    await page.getByRole('button', { name: 'Bật micro để thử' }).click();
    await page.getByText('Micro: đang bật.').waitFor();
    await expect.poll(() => meterValue(page), { timeout: 15_000 }).toBeGreaterThan(-50);
    await screenshot(page, 'live-before');

    // Hold the button with the mouse: the chime's countdown, then ON AIR.
    const button = page.getByRole('button', { name: 'Giữ để nói' });
    await button.scrollIntoViewIfNeeded();
    const box = await button.boundingBox();
    if (!box) throw new Error('the push-to-talk button is not visible');
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.getByRole('button', { name: 'Thả ra để dừng' }).waitFor();
    await page.getByText(/Lên sóng sau khoảng \d giây/).waitFor({ timeout: 10_000 });
    await page.getByRole('status').filter({ hasText: 'ĐANG PHÁT TRỰC TIẾP' }).waitFor({ timeout: 15_000 });
    // The deliveries appear while on air, and the meter keeps showing the voice.
    await page.getByRole('heading', { name: /Loa nhận phát \(\d+\)/ }).waitFor();
    await expect.poll(() => meterValue(page), { timeout: 5000 }).toBeGreaterThan(-50);
    // Speak for four seconds by the page's own clock.
    await expect.poll(() => secondsOnAir(page), { timeout: 30_000 }).toBeGreaterThanOrEqual(4);
    await page
      .getByText(/Máy chủ đã nhận [1-9][\d,.]* giây âm thanh/)
      .first()
      .waitFor({ timeout: 5000 });
    await screenshot(page, 'live-on-air');
    await page.mouse.up();

    // Released: the session ends, the microphone is off, the final account is shown.
    await page
      .getByRole('status')
      .filter({ hasText: /Đã kết thúc: người nói đã dừng/ })
      .waitFor({ timeout: 15_000 });
    await page.getByRole('heading', { name: 'Kết quả phiên phát' }).waitFor();
    await page.getByText('Micro: tắt.').waitFor();
    expect(await page.getByRole('meter').count()).toBe(0);
    const counts = page.getByRole('list', { name: 'Số loa theo trạng thái' });
    await expect.poll(() => counts.textContent(), { timeout: 20_000 }).toBe(`${receivers.length} đã phát xong`);
    // The recent list has it, ended.
    await page
      .getByRole('region', { name: 'Các phiên gần đây' })
      .getByRole('row')
      .filter({ hasText: 'Họp thôn tối nay' })
      .filter({ hasText: 'đã kết thúc' })
      .waitFor({ timeout: 15_000 });
    await screenshot(page, 'live-after');

    const session = await sessionTitled('Họp thôn tối nay');
    expect(session?.state).toBe('ended');
    expect(session?.endReason).toBe('speaker_closed');
    // About four seconds of speech went out (20 ms frames).
    expect(session?.framesSent ?? 0).toBeGreaterThan(150);

    // Every receiver of the commune played it, with its frames heard as they came, not concealed.
    const played = () => dash.fleet?.lives.filter((r) => r.sessionId === session?.id) ?? [];
    await expect.poll(() => played().length, { timeout: 15_000 }).toBe(receivers.length);
    expect(new Set(played().map((r) => r.receiverId))).toEqual(new Set(receivers));
    // (A loaded machine makes the virtual receivers skip late frames to stay in step, so the
    // bar is real sound on each, mostly heard as it came, not a perfect copy.)
    for (const record of played()) {
      const frames = record.frames.concealed.length;
      const concealed = record.frames.concealed.reduce((n, c) => n + c, 0);
      const heard = record.counters?.framesPlayed ?? 0;
      const gaps = (record.counters?.concealed ?? 0) + (record.counters?.silent ?? 0);
      expect(record.result, record.receiverId).toBe('finished');
      expect(frames, record.receiverId).toBeGreaterThanOrEqual(50);
      expect(concealed / frames, record.receiverId).toBeLessThan(0.25);
      expect(heard, `${record.receiverId}: ${JSON.stringify(record.counters)}`).toBeGreaterThan(gaps);
      // Real sound came out: Chromium's fake microphone beeps, far above digital silence (-inf dBFS).
      expect(record.wavPath, record.wavError).toBeTruthy();
      expect(loudestDbfs(record.wavPath as string), record.receiverId).toBeGreaterThan(-40);
    }
  }, 90_000);

  it('on a 360 px phone: another session on the commune is shown and refused by name; then toggle and hold modes by keyboard', async () => {
    // Emergency staff of the commune hold the loudspeakers (opened through the API, no audio yet).
    const emergency = await dash.system.as('emergency-02680');
    const open = async () =>
      (await emergency.get<{ items: SessionRow[] }>('/live/sessions?limit=20')).items.filter(
        (s) => s.state === 'opening' || s.state === 'on_air',
      ).length;
    await expect.poll(open, { timeout: 20_000 }).toBe(0);
    const commune = await emergency.get<{ id: string }>('/areas/02680');
    const other = await emergency.post<{ session: { id: string } }>('/live/sessions', {
      title: 'Cảnh báo lũ quét',
      areaIds: [commune.id],
      prelude: 'none',
    });

    const page = await dash.signedIn('official-02680', { width: 360, height: 740 });
    pages.push(page);
    await openLivePage(page);
    await page.getByText(/Đang có phiên phát trực tiếp/).waitFor({ timeout: 15_000 });
    await page.getByLabel('Bấm một lần để bắt đầu, bấm lần nữa để dừng').check();
    const button = page.getByRole('button', { name: 'Bấm để bắt đầu nói' });
    await button.focus();
    await page.keyboard.press('Enter');
    const problem = page.getByRole('alert').filter({ hasText: 'Không mở được vì đang có phiên phát trực tiếp khác' });
    await problem.waitFor({ timeout: 15_000 });
    await problem.getByText(/Phiên đang giữ loa: “Cảnh báo lũ quét” \((đang mở|đang phát)\)/).waitFor();
    // The microphone opened for the press is closed again.
    await page.getByText('Micro: tắt.').waitFor();
    // An official may not stop emergency staff's session: the controller's refusal is shown.
    await problem.getByRole('button', { name: 'Dừng phiên đó' }).click();
    await problem.getByText(/Không dừng được: .*only the speaker/).waitFor();
    const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'live-phone-conflict');

    await emergency.post(`/live/sessions/${other.session.id}/stop`, {});
    // Toggle mode, by keyboard: Enter starts, Enter again stops.
    await button.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'ĐANG PHÁT TRỰC TIẾP' }).waitFor({ timeout: 15_000 });
    await expect.poll(() => secondsOnAir(page), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    await screenshot(page, 'live-phone-on-air');
    await page.getByRole('button', { name: 'Bấm để dừng nói' }).press('Enter');
    await page
      .getByRole('status')
      .filter({ hasText: /Đã kết thúc/ })
      .waitFor({ timeout: 15_000 });
    await page.getByText('Micro: tắt.').waitFor();
    const overflowAfter = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflowAfter).toBeLessThanOrEqual(0);
    await screenshot(page, 'live-phone-after');

    // Hold mode by keyboard: Space held down speaks, letting it go stops.
    await page.getByLabel('Giữ nút trong khi nói').check();
    await page.getByRole('button', { name: 'Giữ để nói' }).focus();
    await page.keyboard.down(' ');
    await page.getByRole('status').filter({ hasText: 'ĐANG PHÁT TRỰC TIẾP' }).waitFor({ timeout: 15_000 });
    await expect.poll(() => secondsOnAir(page), { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    await page.keyboard.up(' ');
    await page
      .getByRole('status')
      .filter({ hasText: /Đã kết thúc: người nói đã dừng/ })
      .waitFor({ timeout: 15_000 });
    await page.getByText('Micro: tắt.').waitFor();
  }, 90_000);
});
