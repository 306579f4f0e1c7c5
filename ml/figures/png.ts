/** SVG → PNG with resvg (native, no browser). */
import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';

export interface PngOptions {
  /** Output width in pixels (height follows the aspect ratio); default the SVG's own size. */
  width?: number;
  /** Extra font files to load, on top of the system fonts. */
  fontFiles?: string[];
  /** Scan the system's font directories (default true). */
  loadSystemFonts?: boolean;
}

/**
 * Render an SVG document to PNG bytes. Missing fonts never make this throw:
 * resvg then draws the figure without its text, and should font loading
 * itself fail, the render is retried with no fonts at all. An invalid SVG
 * still throws.
 */
export function svgToPng(svg: string, options: PngOptions = {}): Uint8Array {
  if (options.width !== undefined && !(Number.isInteger(options.width) && options.width > 0)) {
    throw new RangeError(`svgToPng: width must be a positive integer, got ${options.width}`);
  }
  const base: ResvgRenderOptions = {
    fitTo: options.width === undefined ? { mode: 'original' } : { mode: 'width', value: options.width },
    background: '#ffffff',
    logLevel: 'off',
  };
  const withFonts: ResvgRenderOptions = {
    ...base,
    font: {
      loadSystemFonts: options.loadSystemFonts ?? true,
      fontFiles: options.fontFiles ?? [],
      defaultFontFamily: 'DejaVu Sans',
      sansSerifFamily: 'DejaVu Sans',
    },
  };
  try {
    return new Resvg(svg, withFonts).render().asPng();
  } catch (first) {
    // A font failure succeeds without fonts; an invalid SVG fails both times and reports the first error.
    try {
      return new Resvg(svg, { ...base, font: { loadSystemFonts: false } }).render().asPng();
    } catch {
      throw first;
    }
  }
}
