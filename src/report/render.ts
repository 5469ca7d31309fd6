/**
 * Headless rendering of a chart: vega-lite → vega → SVG (vega's own SVG writer, no
 * browser), then SVG → PNG with resvg. vega and vega-lite are ESM-only: loaded with a
 * dynamic import(), which the node16 module setting leaves as is in our CommonJS build.
 */
import { existsSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';
import type { TopLevelSpec } from './chart';

export interface CompiledSpec {
  /** The vega spec (typed loosely: it goes straight to vega.parse). */
  vega: object;
  /** What vega-lite warned about while compiling (a correct chart has none). */
  warnings: string[];
}

export async function compileSpec(spec: TopLevelSpec): Promise<CompiledSpec> {
  const vl = await import('vega-lite');
  const warnings: string[] = [];
  let level = 0;
  const logger = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...args: readonly unknown[]) {
      throw new Error(`vega-lite: ${args.join(' ')}`);
    },
    warn(...args: readonly unknown[]) {
      warnings.push(args.join(' '));
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  };
  const out = vl.compile(spec, { logger: logger as never });
  return { vega: out.spec, warnings };
}

export async function renderSvg(spec: TopLevelSpec): Promise<{ svg: string; warnings: string[] }> {
  const vega = await import('vega');
  const compiled = await compileSpec(spec);
  const view = new vega.View(vega.parse(compiled.vega as never), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return { svg, warnings: compiled.warnings };
  } finally {
    view.finalize();
  }
}

/** DejaVu (Debian: fonts-dejavu-core), the first family of the charts' font list. */
const FONT_FILES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans-Oblique.ttf',
];

/**
 * resvg draws no text without fonts and says nothing about it, so the fonts are given
 * explicitly; without DejaVu it falls back to whatever the system has.
 */
function fontOptions() {
  const fontFiles = FONT_FILES.filter((f) => existsSync(f));
  return fontFiles.length
    ? { fontFiles, loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' }
    : { loadSystemFonts: true };
}

/** `scale` 2 keeps text sharp on high-density screens and in print. */
export function svgToPng(svg: string, scale = 2): Buffer {
  const resvg = new Resvg(svg, { fitTo: { mode: 'zoom', value: scale }, background: 'white', font: fontOptions() });
  return resvg.render().asPng();
}
