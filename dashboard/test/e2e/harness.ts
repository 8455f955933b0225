import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Fleet, System, type VirtualReceiverSpec } from '@loa/simulator';
import { type Browser, chromium, type Page } from 'playwright-core';

/**
 * The built app (setup builds it; `npm run build --workspace dashboard` after a change).
 * DASHBOARD_DIST points the tests at another build (`npx vite build --outDir …`).
 */
export const DASHBOARD_DIR = process.env.DASHBOARD_DIST ?? fileURLToPath(new URL('../../dist/app', import.meta.url));
/** Every screenshot a test run takes, one PNG per page (kept out of git). */
export const SCREENSHOT_DIR = fileURLToPath(new URL('../../test-results/screenshots', import.meta.url));

/** Debian's Chromium with the flags STACK.md names (no background networking on a closed network). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // The live page records from a microphone: Chromium's fake device plays a tone.
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
];

export interface DashboardSystemOptions {
  /** Area codes whose receivers run as a simulated fleet (none: no fleet). */
  fleetAreas?: readonly string[];
  /** Extra controller settings. */
  controllerEnv?: Record<string, string>;
  /** Receiver heartbeat interval (default 5 s, so presence changes show quickly). */
  heartbeatMs?: number;
  /** Keep what each receiver heard of each live session as WAV under this directory (LiveRecord.wavPath). */
  liveWavDir?: string;
}

/**
 * The whole system for a browser test: a private controller (serving the built app)
 * with the demo province on its own database and broker, real virtual receivers for
 * the chosen areas, and a headless Chromium.
 */
export class DashboardSystem {
  private constructor(
    readonly system: System,
    readonly fleet: Fleet | null,
    readonly specs: readonly VirtualReceiverSpec[],
    readonly browser: Browser,
  ) {}

  static async start(options: DashboardSystemOptions = {}): Promise<DashboardSystem> {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `no Chromium at ${CHROMIUM}: run bash scripts/tools.sh (installs Debian's chromium), or set CHROMIUM_PATH`,
      );
    if (!existsSync(`${DASHBOARD_DIR}/index.html`))
      throw new Error(`the dashboard is not built in ${DASHBOARD_DIR}: run npm run build --workspace dashboard`);
    const system = await System.start({
      province: { demo: true },
      password: 'loa-demo',
      // TTS stays off unless a test asks (TTS_ENGINE: 'espeak-ng'): the seeded week's text
      // programmes would otherwise all be synthesised while the test runs.
      controllerEnv: { DASHBOARD_DIR, ...options.controllerEnv },
    });
    let fleet: Fleet | null = null;
    let specs: VirtualReceiverSpec[] = [];
    try {
      if (options.fleetAreas?.length) {
        const registry = await system.as('technician-10');
        const wanted = new Set(options.fleetAreas);
        specs = (await registry.receivers()).filter((s) => s.areas.some((a) => wanted.has(a.areaCode)));
        fleet = new Fleet({
          mqttUrl: system.broker.url,
          controllerUrl: system.controller.url,
          trustedKeys: await registry.trustedKeys(),
          heartbeatMs: options.heartbeatMs ?? 5000,
          ...(options.liveWavDir ? { liveWavDir: options.liveWavDir } : {}),
        });
        await fleet.start(specs);
        const deadline = Date.now() + 30_000;
        while (fleet.online() < specs.length) {
          if (Date.now() > deadline) throw new Error(`only ${fleet.online()} of ${specs.length} receivers came online`);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
      return new DashboardSystem(system, fleet, specs, browser);
    } catch (error) {
      await fleet?.stop().catch(() => {});
      await system.stop().catch(() => {});
      throw error;
    }
  }

  get url(): string {
    return this.system.controller.url;
  }

  /** A new browser context (its own cookies) signed in as a demo user, on the app's home page. */
  async signedIn(
    username: string,
    options: { width?: number; height?: number; language?: 'vi' | 'en' } = {},
  ): Promise<Page> {
    const context = await this.browser.newContext({
      viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
      locale: 'vi-VN',
      timezoneId: 'Asia/Ho_Chi_Minh',
    });
    if (options.language)
      await context.addInitScript(`localStorage.setItem('loa.language', ${JSON.stringify(options.language)})`);
    const page = await context.newPage();
    await page.goto(`${this.url}/app/`);
    await page.getByLabel(/Tên đăng nhập|Username/).fill(username);
    await page.getByLabel(/Mật khẩu|Password/).fill('loa-demo');
    await page.getByRole('button', { name: /Đăng nhập|Sign in/ }).click();
    await page.getByRole('button', { name: /Đăng xuất|Sign out/ }).waitFor();
    return page;
  }

  async stop(): Promise<void> {
    await this.browser.close().catch(() => {});
    await this.fleet?.stop().catch(() => {});
    await this.system.stop();
  }
}

/** Saves a full-page screenshot as test-results/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = `${SCREENSHOT_DIR}/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}
