/**
 * Opening a dashboard in a real browser (Debian's chromium through playwright-core):
 * what each chart container holds once vega-embed has drawn, what the page logged,
 * and any request that was not for a local file (a self-contained page makes none).
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export function chromiumMissing(): string | false {
  return existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (apt-get install chromium)`;
}

export interface ChartInPage {
  id: string;
  title: string;
  /** vega's own <svg class="marks"> elements (vega-embed's menu icon is another svg). */
  vegaSvgs: number;
  /** Drawn items inside the chart's mark groups (points, paths, rects, lines). */
  markItems: number;
  /** Points of symbol marks, legends excluded. */
  symbols: number;
}

export interface PageReport {
  charts: ChartInPage[];
  errors: string[];
  warnings: string[];
  foreignRequests: string[];
  renderMs: number;
}

export async function inspectDashboard(htmlPath: string, screenshotPath: string | null, width = 1280): Promise<PageReport> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    const errors: string[] = [];
    const warnings: string[] = [];
    const foreignRequests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
      if (m.type() === 'warning') warnings.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      if (!/^(file|data|blob):/.test(r.url())) foreignRequests.push(r.url());
    });
    const t0 = Date.now();
    await page.goto(pathToFileURL(htmlPath).href);
    // The page sets this once every vega-embed call has settled (drawn or failed).
    await page.waitForSelector('body[data-rendered="true"]', { timeout: 30_000 });
    const renderMs = Date.now() - t0;
    const charts = await page.$$eval('div.vega.chart', (els) =>
      els.map((el) => ({
        id: el.id,
        title: el.getAttribute('data-title') ?? '',
        vegaSvgs: el.querySelectorAll('svg.marks').length,
        markItems: el.querySelectorAll('svg.marks g.role-mark > *').length,
        symbols: el.querySelectorAll('svg.marks g.mark-symbol.role-mark > path').length,
      })),
    );
    if (screenshotPath) await page.screenshot({ path: screenshotPath, fullPage: true });
    return { charts, errors, warnings, foreignRequests, renderMs };
  } finally {
    await browser.close();
  }
}
