/**
 * A minimal SVG string builder. Element and attribute names come from our own
 * code; every attribute value and every text node goes through escapeXml, so
 * labels such as "W+jets <tight> & \"loose\"" cannot break the document.
 */

/** Characters XML 1.0 cannot carry at all (C0 controls other than tab, LF, CR; lone surrogates; U+FFFE/U+FFFF). */
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escape text for use as XML character data or a double-quoted attribute value; unrepresentable characters are dropped. */
export function escapeXml(text: string): string {
  return text
    .replace(NOT_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Attribute values; `undefined` leaves the attribute out. */
export type Attrs = Record<string, string | number | undefined>;

/** A coordinate or length with at most two decimals: enough for pixels, and short. */
export function num(v: number): string {
  const r = Math.round(v * 100) / 100;
  return Object.is(r, -0) ? '0' : String(r);
}

function attrString(attrs: Attrs): string {
  let out = '';
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    out += ` ${name}="${typeof value === 'number' ? num(value) : escapeXml(value)}"`;
  }
  return out;
}

/** An element whose children are already-built markup (use `text` for character data). */
export function el(name: string, attrs: Attrs = {}, ...children: string[]): string {
  return children.length === 0 ? `<${name}${attrString(attrs)}/>` : `<${name}${attrString(attrs)}>${children.join('')}</${name}>`;
}

/** A <text> element holding escaped character data. */
export function text(content: string, attrs: Attrs = {}): string {
  return `<text${attrString(attrs)}>${escapeXml(content)}</text>`;
}

/** SVG path data for a polyline; non-finite points break the line into separate pieces. */
export function polylinePath(points: Array<[number, number]>): string {
  let d = '';
  let pen = false;
  for (const [x, y] of points) {
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${num(x)},${num(y)}`;
    pen = true;
  }
  return d;
}

/** A complete standalone SVG document with a white background. */
export function svgDocument(width: number, height: number, fontFamily: string, ...body: string[]): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    el(
      'svg',
      { xmlns: 'http://www.w3.org/2000/svg', width, height, viewBox: `0 0 ${num(width)} ${num(height)}`, 'font-family': fontFamily },
      el('rect', { x: 0, y: 0, width, height, fill: '#ffffff' }),
      ...body,
    ) +
    '\n'
  );
}
