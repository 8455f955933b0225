import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiTypesFrom } from './api-types.js';
import { DashboardSystem, screenshot } from './harness.js';

let dash: DashboardSystem;
beforeAll(async () => {
  dash = await DashboardSystem.start();
}, 90_000);
afterAll(async () => {
  await dash?.stop();
});

describe('the app shell in Chromium', () => {
  it('is served by the controller under /app/, with its pages as client-side routes', async () => {
    const root = await fetch(`${dash.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/app/');
    const deep = await fetch(`${dash.url}/app/fleet/some-receiver`);
    expect(deep.status).toBe(200);
    expect(await deep.text()).toContain('<div id="root">');
    expect((await fetch(`${dash.url}/app/assets/missing.js`)).status).toBe(404);
  });

  it('refuses a wrong password with the reason, then signs in and shows the role’s home page in Vietnamese', async () => {
    const page = await dash.browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${dash.url}/app/`);
    await screenshot(page, 'sign-in');
    await page.getByLabel('Tên đăng nhập').fill('official-02680');
    await page.getByLabel('Mật khẩu').fill('wrong');
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/Không đăng nhập được/);
    await page.getByLabel('Mật khẩu').fill('loa-demo');
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.getByRole('heading', { name: /Xin chào/ }).waitFor();
    expect(await page.getByRole('link', { name: /Lịch phát/ }).count()).toBeGreaterThan(0);
    // An official has no technician's or emergency work on the home page.
    expect(await page.getByRole('link', { name: /Cảnh báo thiên tai/ }).count()).toBe(0);
    await page.getByText('Cập nhật trực tiếp').waitFor();
    await screenshot(page, 'home-official');
    await page.context().close();
  });

  it('switches to English and keeps the choice; works on a 360 px phone screen', async () => {
    const page = await dash.signedIn('technician-10', { width: 360, height: 740 });
    await page.getByLabel('Ngôn ngữ').first().selectOption('en');
    await page.getByRole('heading', { name: /Hello/ }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: /Hello/ }).waitFor();
    // Page-side code as a string: the tests are type-checked for Node, without the DOM library.
    const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('navigation').getByRole('link', { name: 'Receivers' }).waitFor();
    await screenshot(page, 'home-technician-phone');
    await page.context().close();
  });

  it('has API types generated from the controller’s current OpenAPI document', async () => {
    const committed = readFileSync(new URL('../../app/api/schema.d.ts', import.meta.url), 'utf8');
    expect(committed === (await apiTypesFrom(dash.url)), 'run npm run api-types --workspace dashboard').toBe(true);
  });
});
