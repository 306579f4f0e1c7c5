/**
 * ml/figures: the SVGs are well-formed XML (a strict tokenizer here, and
 * resvg's own parser), carry their legends, AUCs and escaped labels, handle
 * degenerate inputs, and render to PNGs of the requested width.
 *
 * Degenerate inputs, by design: no curves / no series / an empty matrix throw
 * a RangeError; a single epoch is drawn as markers.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Resvg } from '@resvg/resvg-js';
import { confusionMatrixFigure, escapeXml, lineChart, rocFigure, rocLegendLabel, svgToPng, trainingCurvesFigure } from '../ml/figures/index.js';
import { linearScale, logScale } from '../ml/figures/scale.js';

const ENTITY = /&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/g;

/**
 * Strict well-formedness check for the XML subset the figures use: a prolog,
 * elements with double-quoted attributes, and text. Tags must nest and close,
 * there must be one root, and `<`, `&` and `"` may only appear escaped.
 */
function assertWellFormed(xml: string): void {
  let rest = xml.replace(/^<\?xml [^?]*\?>\s*/, '');
  const open: string[] = [];
  let roots = 0;
  const plain = (s: string, where: string) => {
    const bare = s.replace(ENTITY, '');
    assert.ok(!/[<&]/.test(bare), `unescaped < or & in ${where}: ${JSON.stringify(s.slice(0, 80))}`);
  };
  while (rest.length > 0) {
    const lt = rest.indexOf('<');
    const chars = lt === -1 ? rest : rest.slice(0, lt);
    if (open.length === 0) assert.match(chars, /^\s*$/, 'text outside the root element');
    else plain(chars, 'text');
    if (lt === -1) break;
    rest = rest.slice(lt);
    const close = /^<\/([A-Za-z][\w:.-]*)\s*>/.exec(rest);
    if (close) {
      assert.equal(open.pop(), close[1], `</${close[1]}> does not close the open element`);
      rest = rest.slice(close[0].length);
      continue;
    }
    const tag = /^<([A-Za-z][\w:.-]*)((?:\s+[A-Za-z][\w:.-]*="[^"]*")*)\s*(\/?)>/.exec(rest);
    assert.ok(tag, `malformed tag at ${JSON.stringify(rest.slice(0, 80))}`);
    const [whole, name, attrs, selfClosing] = tag;
    const seen = new Set<string>();
    for (const m of attrs!.matchAll(/([A-Za-z][\w:.-]*)="([^"]*)"/g)) {
      assert.ok(!seen.has(m[1]!), `duplicate attribute ${m[1]} on <${name}>`);
      seen.add(m[1]!);
      plain(m[2]!, `attribute ${m[1]} of <${name}>`);
    }
    if (open.length === 0) roots++;
    if (selfClosing !== '/') open.push(name!);
    rest = rest.slice(whole.length);
  }
  assert.deepEqual(open, [], 'unclosed elements');
  assert.equal(roots, 1, 'exactly one root element');
  // resvg's XML parser is strict too, and also checks it is an SVG it can draw.
  assert.doesNotThrow(() => new Resvg(xml, { font: { loadSystemFonts: false } }));
  assert.ok(!/NaN|undefined|Infinity/.test(xml), 'no NaN/undefined/Infinity leaks into the markup');
}

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
function pngSize(png: Uint8Array): { width: number; height: number } {
  assert.deepEqual(Array.from(png.subarray(0, 8)), [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  assert.equal(Buffer.from(png.subarray(12, 16)).toString('ascii'), 'IHDR');
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

const curves = [
  { label: 'HLF classifier', fpr: [0, 0.01, 0.1, 0.3, 1], tpr: [0, 0.6, 0.9, 0.98, 1], auc: 0.98741 },
  { label: 'GRU <tracks> & "photons"', fpr: [0, 0.001, 0.05, 1], tpr: [0, 0.5, 0.97, 1], auc: 0.99 },
];

describe('the well-formedness check itself', () => {
  const svgWith = (inner: string) => `<svg xmlns="http://www.w3.org/2000/svg">${inner}</svg>`;
  test('accepts a small valid document and rejects broken ones', () => {
    assertWellFormed(svgWith('<g><text x="1">a &amp; b &lt; c</text><rect/></g>'));
    const cases: Array<[string, RegExp]> = [
      [svgWith('<g><text></g></text>'), /does not close/],
      [svgWith('<text>a & b</text>'), /unescaped/],
      [svgWith('<text x="a<b">t</text>'), /malformed tag|unescaped/],
      [svgWith('<g>'), /does not close|unclosed/],
      [svgWith('') + '<svg/>', /one root/],
      [svgWith('<rect x="1" x="2"/>'), /duplicate attribute/],
    ];
    for (const [xml, message] of cases) assert.throws(() => assertWellFormed(xml), message, xml);
  });
});

describe('SVG text escaping', () => {
  test('escapeXml escapes markup characters and drops what XML cannot carry', () => {
    assert.equal(escapeXml(`a<b & "c" 'd'>`), 'a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;');
    assert.equal(escapeXml('x\u0000y\u001Fz\uD800'), 'xyz');
    assert.equal(escapeXml('t\u0304 10\u207B\u00B3 \uD83D\uDE00'), 't\u0304 10\u207B\u00B3 \uD83D\uDE00');
  });
});

describe('scales', () => {
  test('linear ticks are round numbers without float noise', () => {
    const s = linearScale([-0.02, 1.02], [0, 100], { tickCount: 5 });
    assert.deepEqual(s.ticks, [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(s.ticks.map((t) => s.format(t)), ['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']);
    const e = linearScale([0.5, 1.5], [0, 100], { integer: true });
    assert.deepEqual(e.ticks, [1]);
    assert.throws(() => linearScale([1, 1], [0, 100]), RangeError);
  });

  test('log ticks at powers of ten with superscript labels', () => {
    const s = logScale([1e-4, 1], [0, 400]);
    assert.deepEqual(s.ticks.map((t) => s.format(t)), ['10\u207B\u2074', '10\u207B\u00B3', '10\u207B\u00B2', '10\u207B\u00B9', '10\u2070']);
    assert.equal(s.minorTicks.length, 4 * 8);
    assert.equal(s.map(1e-2), 200);
    assert.ok(Number.isNaN(s.map(0)));
    assert.throws(() => logScale([0, 1], [0, 1]), RangeError);
  });
});

describe('rocFigure', () => {
  test('well-formed, with legend entries carrying the AUC to 3 decimals', () => {
    const svg = rocFigure(curves);
    assertWellFormed(svg);
    assert.ok(svg.includes('HLF classifier (AUC = 0.987)'));
    assert.ok(svg.includes('(AUC = 0.990)'));
    assert.ok(svg.includes('False positive rate') && svg.includes('True positive rate'));
    assert.ok(svg.includes('Receiver operating characteristic (ROC) curve'));
    assert.ok(svg.includes('stroke-dasharray="6 4"'), 'dashed diagonal');
  });

  test('the legend label reads "name (AUC = 0.984)": the AUC inside the parentheses, 3 decimals', () => {
    assert.equal(rocLegendLabel('hlf', 0.984), 'hlf (AUC = 0.984)');
    assert.equal(rocLegendLabel('hlf', 0.98404), 'hlf (AUC = 0.984)');
    assert.equal(rocLegendLabel('inclusive', 0.9876), 'inclusive (AUC = 0.988)');
    assert.equal(rocLegendLabel('random', 0.5), 'random (AUC = 0.500)');
  });

  test('special characters in labels and titles are escaped', () => {
    const svg = rocFigure(curves, { title: 'ttbar vs "rest" <test> & more' });
    assertWellFormed(svg);
    assert.ok(svg.includes('GRU &lt;tracks&gt; &amp; &quot;photons&quot; (AUC = 0.990)'));
    assert.ok(svg.includes('ttbar vs &quot;rest&quot; &lt;test&gt; &amp; more'));
    assert.ok(!svg.includes('<tracks>') && !svg.includes('<test>'));
  });

  test('log-scaled FPR axis', () => {
    const svg = rocFigure(curves, { logX: true });
    assertWellFormed(svg);
    assert.ok(svg.includes('>10\u207B\u00B3<'), 'tick label 10⁻³ (smallest non-zero FPR is 1e-3)');
    assert.ok(!svg.includes('>10\u207B\u2074<'));
  });

  test('empty or inconsistent input throws a RangeError', () => {
    assert.throws(() => rocFigure([]), /no curves to plot/);
    assert.throws(() => rocFigure([{ label: 'a', fpr: [0, 1], tpr: [0], auc: 0.5 }]), /2 fpr but 1 tpr/);
    assert.throws(() => rocFigure([{ label: 'a', fpr: [], tpr: [], auc: 0.5 }]), /no points/);
    assert.throws(() => rocFigure([{ label: 'a', fpr: [0, 1], tpr: [0, 1], auc: Number.NaN }]), /AUC NaN/);
  });
});

describe('trainingCurvesFigure', () => {
  test('train and validation per epoch', () => {
    const svg = trainingCurvesFigure(
      [
        { label: 'train', values: [1.1, 0.7, 0.5, 0.45] },
        { label: 'validation', values: [1.2, 0.8, 0.6, 0.58], dashed: true },
      ],
      { title: 'Loss', yLabel: 'Cross-entropy' },
    );
    assertWellFormed(svg);
    for (const s of ['>train<', '>validation<', '>Loss<', '>Cross-entropy<', '>Epoch<', '>4<']) assert.ok(svg.includes(s), s);
  });

  test('a single epoch is drawn as markers', () => {
    const svg = trainingCurvesFigure([{ label: 'train', values: [0.81] }, { label: 'validation', values: [0.78] }], { title: 'Accuracy', yLabel: 'Accuracy' });
    assertWellFormed(svg);
    // One marker per point plus one per legend entry.
    assert.equal(svg.match(/<circle /g)?.length, 4);
    assert.ok(svg.includes('>1<'), 'epoch tick 1');
  });

  test('a NaN epoch leaves a gap in the line', () => {
    const svg = trainingCurvesFigure([{ label: 'loss', values: [1, 0.8, Number.NaN, 0.6, 0.5] }], { title: 't', yLabel: 'y' });
    assertWellFormed(svg);
    const d = /<g class="series"><path d="([^"]*)"/.exec(svg)?.[1] ?? '';
    assert.equal(d.match(/M/g)?.length, 2, d);
  });

  test('nothing to plot throws a RangeError', () => {
    assert.throws(() => trainingCurvesFigure([], { title: 't', yLabel: 'y' }), /no series/);
    assert.throws(() => trainingCurvesFigure([{ label: 'a', values: [] }], { title: 't', yLabel: 'y' }), /no values/);
  });
});

describe('confusionMatrixFigure', () => {
  const m = [
    [2103, 95, 12],
    [40, 2011, 150],
    [7, 230, 1950],
  ];

  test('counts in the cells and class names on both axes', () => {
    const svg = confusionMatrixFigure(m, ['QCD', 'ttbar', 'W+jets'], { title: 'Confusion matrix' });
    assertWellFormed(svg);
    for (const s of ['>2103<', '>7<', '>1950<', '>QCD<', '>W+jets<', '>Predicted label<', '>True label<', '>Confusion matrix<']) assert.ok(svg.includes(s), s);
    assert.equal(svg.match(/>ttbar</g)?.length, 2);
  });

  test('normalized rows show fractions with the counts kept', () => {
    const svg = confusionMatrixFigure(m, ['QCD', 't<t> & "b"', 'W+jets'], { title: 'Normalized', normalize: true });
    assertWellFormed(svg);
    assert.ok(svg.includes('>0.95<') && svg.includes('>(2103)<') && svg.includes('>0.89<'));
    assert.ok(svg.includes('t&lt;t&gt; &amp; &quot;b&quot;'));
  });

  test('a class with no samples is shown with dashes when normalized', () => {
    const svg = confusionMatrixFigure([[3, 1], [0, 0]], ['a', 'b'], { title: 'x', normalize: true });
    assertWellFormed(svg);
    assert.equal(svg.match(/>\u2013</g)?.length, 2);
  });

  test('bad shapes throw a RangeError', () => {
    assert.throws(() => confusionMatrixFigure([], [], { title: 'x' }), /empty/);
    assert.throws(() => confusionMatrixFigure([[1, 2]], ['a'], { title: 'x' }), /row 0 has 2 entries/);
    assert.throws(() => confusionMatrixFigure([[1]], ['a', 'b'], { title: 'x' }), /1 rows but 2 class names/);
    assert.throws(() => confusionMatrixFigure([[-1]], ['a'], { title: 'x' }), /finite and >= 0/);
  });
});

describe('lineChart', () => {
  test('points a log axis cannot show are left out, not drawn at NaN', () => {
    const svg = lineChart({ x: { label: 'x', log: true }, y: { label: 'y' }, series: [{ label: 's', x: [0, 0.01, 0.1, 1], y: [0, 1, 2, 3] }] });
    assertWellFormed(svg);
  });
});

describe('svgToPng', () => {
  const svg = rocFigure(curves);

  test('a PNG of the requested width, aspect ratio kept', () => {
    const png = svgToPng(svg, { width: 960 });
    assert.deepEqual(pngSize(png), { width: 960, height: 720 });
    assert.deepEqual(pngSize(svgToPng(svg)), { width: 640, height: 480 });
  });

  test('confusion matrix renders too', () => {
    const cm = confusionMatrixFigure([[5, 1], [2, 7]], ['QCD', 'W+jets'], { title: 'cm', normalize: true });
    assert.equal(pngSize(svgToPng(cm, { width: 500 })).width, 500);
  });

  test('text is drawn with the system fonts, and missing fonts do not throw', () => {
    const withFonts = svgToPng(svg, { width: 400 });
    const without = svgToPng(svg, { width: 400, loadSystemFonts: false, fontFiles: ['/nonexistent/font.ttf'] });
    assert.equal(pngSize(without).width, 400);
    assert.ok(withFonts.length > without.length, `text adds detail: ${withFonts.length} vs ${without.length} bytes`);
  });

  test('invalid SVG and bad widths throw', () => {
    assert.throws(() => svgToPng('<svg><g></svg>'));
    assert.throws(() => svgToPng(svg, { width: 0 }), RangeError);
    assert.throws(() => svgToPng(svg, { width: 10.5 }), RangeError);
  });
});
