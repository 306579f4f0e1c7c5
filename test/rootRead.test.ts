/**
 * root/read against uproot (the Python reference, test/reference/dump_branches.py):
 * a real Delphes file (split TClonesArray branches), one TTree in five codecs,
 * an uproot-style Delphes file, entry ranges, and broken files (truncated, not
 * ROOT, corrupt baskets, missing tree or branches).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../infra/tools.js';
import { python } from './support/python.js';
import type { DelphesEvent } from '../hep/event.js';
import { DELPHES_EVENT_BRANCHES, readDelphesEvents } from '../hep/delphes.js';
import {
  openRootFile,
  RootReadError,
  type EntryRange,
  type RootReadReason,
  type RootTree,
} from '../root/read/index.js';

const run = promisify(execFile);
const FIXTURES = join(projectRoot, '..', 'shared', 'fixtures', 'root');
const DELPHES_FILE = join(FIXTURES, 'uproot-issue513.root');
const HZZ = (codec: string): string => join(FIXTURES, `uproot-HZZ-${codec}.root`);
const CODECS = ['zlib', 'lz4', 'lzma', 'zstd', 'uncompressed'];

/** A value as both sides can compare it: numbers, non-finite ones by name, booleans as 0/1. */
type Value = number | string | Value[];
type Columns = Record<string, Value[]>;

function normalise(value: unknown): Value {
  if (typeof value === 'boolean') return Number(value);
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(normalise);
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>, normalise);
  throw new Error(`unexpected value ${String(value)}`);
}

async function uproot(file: string, tree: string, branches: readonly string[], range: EntryRange = {}): Promise<{ entries: number; columns: Columns }> {
  const args = [join(projectRoot, 'test', 'reference', 'dump_branches.py'), file, tree, ...branches];
  if (range.first !== undefined) args.push('--first', String(range.first));
  if (range.count !== undefined) args.push('--count', String(range.count));
  const { stdout } = await run(python(), args, { maxBuffer: 1 << 28 });
  const dump = JSON.parse(stdout) as { entries: number; branches: Record<string, unknown[]> };
  return { entries: dump.entries, columns: Object.fromEntries(Object.entries(dump.branches).map(([name, values]) => [name, values.map(normalise)])) };
}

/** Reads branches with root/read, copying the values out of the callback; also returns the entry numbers seen. */
async function readColumns(tree: RootTree, branches: readonly string[], range?: EntryRange): Promise<{ entries: number[]; columns: Columns }> {
  const entries: number[] = [];
  const columns: Columns = Object.fromEntries(branches.map((name) => [name, []]));
  await tree.read(
    [...branches],
    (entry, values) => {
      entries.push(entry);
      for (const name of branches) columns[name]?.push(normalise(values[name]));
    },
    range,
  );
  return { entries, columns };
}

async function treeOf(path: string, name: string): Promise<RootTree> {
  return (await openRootFile({ path })).tree(name);
}

/** Awaits `promise`, expecting a RootReadError with this reason whose message names `file`. */
async function rejectsWith(promise: Promise<unknown>, reason: RootReadReason, file: string, says: string[] = []): Promise<RootReadError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof RootReadError, `expected a RootReadError, got ${String(err)}`);
    assert.equal(err.reason, reason, err.message);
    assert.equal(err.file, file);
    assert.ok(err.message.startsWith(`${file}: `), err.message);
    for (const s of says) assert.ok(err.message.includes(s), `"${err.message}" should mention "${s}"`);
    return err;
  }
  assert.fail(`expected RootReadError(${reason})`);
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'topoflow-rootread-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

// ---------------------------------------------------------------- real Delphes file

describe('real Delphes file (split TClonesArray branches)', () => {
  const members = [
    'Jet.PT', 'Jet.Eta', 'Jet.Phi', 'Jet.Mass', 'Jet.BTag',
    'EFlowTrack.PT', 'EFlowTrack.Eta', 'EFlowTrack.Phi', 'EFlowTrack.PID', 'EFlowTrack.Charge', 'EFlowTrack.X', 'EFlowTrack.Y', 'EFlowTrack.Z',
    'EFlowPhoton.ET', 'EFlowPhoton.Eta', 'EFlowPhoton.Phi',
    'EFlowNeutralHadron.ET', 'EFlowNeutralHadron.Eta', 'EFlowNeutralHadron.Phi',
    'Jet_size', 'EFlowTrack_size',
  ];

  test('lists the tree and its member branches', async () => {
    const file = await openRootFile({ path: DELPHES_FILE });
    assert.deepEqual(file.treeNames(), ['Delphes']);
    const tree = await file.tree('Delphes');
    assert.equal(tree.entries, 10);
    for (const name of members) assert.ok(tree.hasBranch(name), name);
    assert.ok(!tree.hasBranch('Jet'), 'a collection branch has sub-branches: only its members are readable');
    assert.ok(!tree.hasBranch('Electron.PT'));
  });

  test('members equal uproot, event by event', async () => {
    const [mine, reference] = await Promise.all([readColumns(await treeOf(DELPHES_FILE, 'Delphes'), members), uproot(DELPHES_FILE, 'Delphes', members)]);
    assert.deepEqual(mine.entries, range(10));
    for (const name of members) assert.deepEqual(mine.columns[name], reference.columns[name], name);
    // Counters agree with the arrays they count.
    assert.deepEqual(mine.columns['Jet_size'], mine.columns['Jet.PT']?.map((jets) => (jets as Value[]).length));
  });

  test('an entry range gives the same values as the whole read', async () => {
    const tree = await treeOf(DELPHES_FILE, 'Delphes');
    const whole = await readColumns(tree, members);
    const part = await readColumns(tree, members, { first: 3, count: 4 });
    assert.deepEqual(part.entries, [3, 4, 5, 6]);
    for (const name of members) assert.deepEqual(part.columns[name], whole.columns[name]?.slice(3, 7), name);
  });

  test('readDelphesEvents names the file and every missing stage-1 branch', async () => {
    const file = await openRootFile({ path: DELPHES_FILE });
    const missing = ['Electron.PT', 'Electron.Eta', 'Electron.Phi', 'Electron.Charge', 'MuonTight.PT', 'MuonTight.Eta', 'MuonTight.Phi', 'MuonTight.Charge', 'MissingET.MET', 'MissingET.Phi'];
    let called = false;
    const err = await rejectsWith(
      readDelphesEvents(file, () => {
        called = true;
      }),
      'missing-branch',
      DELPHES_FILE,
      ['Delphes', ...missing],
    );
    assert.ok(!called);
    assert.ok(!err.message.includes('Jet.PT') && !err.message.includes('EFlowTrack'), err.message);
  });
});

// ---------------------------------------------------------------- five codecs

describe('one TTree in five codecs (counted leaves x[n]/F)', () => {
  const branches = [
    'NJet', 'Jet_Px', 'Jet_Py', 'Jet_E', 'Jet_btag', 'Jet_ID',
    'NMuon', 'Muon_Px', 'Muon_Pz', 'Muon_Charge', 'Muon_Iso',
    'NElectron', 'Electron_E', 'MET_px', 'MET_py', 'MCleptonPDGid', 'NPrimaryVertices', 'triggerIsoMu24', 'EventWeight',
  ];

  for (const codec of CODECS) {
    test(`${codec}: equals uproot`, async () => {
      const path = HZZ(codec);
      const [mine, reference] = await Promise.all([readColumns(await treeOf(path, 'events'), branches), uproot(path, 'events', branches)]);
      assert.equal(reference.entries, 2421);
      assert.deepEqual(mine.entries, range(2421));
      for (const name of branches) assert.deepEqual(mine.columns[name], reference.columns[name], `${codec} ${name}`);
    });
  }

  test('entry ranges equal slices of the whole read, clamped like Array.slice', async () => {
    const tree = await treeOf(HZZ('zlib'), 'events');
    const picked = ['NJet', 'Jet_Px', 'Muon_Charge', 'MET_px', 'Jet_ID'];
    const whole = await readColumns(tree, picked);
    const cases: [EntryRange, number, number][] = [
      [{ first: 0, count: 1 }, 0, 1],
      [{ first: 1000, count: 421 }, 1000, 1421],
      [{ first: 2400 }, 2400, 2421],
      [{ count: 7 }, 0, 7],
      [{ first: 2419, count: 10 }, 2419, 2421],
      [{ first: 1990, count: 20 }, 1990, 2010],
      [{ first: 2421 }, 2421, 2421],
      [{ first: 5000, count: 3 }, 2421, 2421],
      [{ first: 10, count: 0 }, 10, 10],
    ];
    for (const [r, start, end] of cases) {
      const part = await readColumns(tree, picked, r);
      assert.deepEqual(part.entries, range(end - start).map((i) => start + i), JSON.stringify(r));
      for (const name of picked) assert.deepEqual(part.columns[name], whole.columns[name]?.slice(start, end), `${JSON.stringify(r)} ${name}`);
    }
    const reference = await uproot(HZZ('zlib'), 'events', picked, { first: 1000, count: 421 });
    for (const name of picked) assert.deepEqual(reference.columns[name], whole.columns[name]?.slice(1000, 1421), name);
    await assert.rejects(tree.read(picked, () => undefined, { first: -1 }), RangeError);
    await assert.rejects(tree.read(picked, () => undefined, { count: 1.5 }), RangeError);
  });

  test('long reads let the event loop run (every 2,000 entries)', async () => {
    const tree = await treeOf(HZZ('zlib'), 'events');
    let ticked = false;
    setImmediate(() => (ticked = true));
    const seen: boolean[] = [];
    await tree.read(['Jet_Px'], (entry) => {
      if (entry === 1999 || entry === 2000) seen.push(ticked);
    });
    assert.deepEqual(seen, [false, true]);
  });

  test('an error thrown by the callback stops the read and comes out unchanged', async () => {
    const tree = await treeOf(HZZ('zlib'), 'events');
    const boom = new Error('stop here');
    let last = -1;
    await assert.rejects(
      tree.read(['Jet_Px'], (entry) => {
        last = entry;
        if (entry === 1500) throw boom;
      }),
      (err) => err === boom,
    );
    assert.equal(last, 1500);
  });
});

// ---------------------------------------------------------------- uproot-style Delphes layout

test('readDelphesEvents on an uproot-style Delphes file (Electron.PT[Electron_size]/F) equals uproot', async () => {
  const path = join(scratch, 'delphes-like.root');
  await run(python(), [join(projectRoot, 'test', 'reference', 'make_delphes_like.py'), '--out', path, '--events', '120', '--seed', '3']);
  const reference = await uproot(path, 'Delphes', DELPHES_EVENT_BRANCHES);
  const seen: Record<string, Value[]> = Object.fromEntries(DELPHES_EVENT_BRANCHES.map((name) => [name, []]));
  const metSeen: DelphesEvent['met'][] = [];
  const file = await openRootFile({ path });
  await readDelphesEvents(file, (_entry, ev) => {
    const byBranch: Record<string, ArrayLike<number>> = {
      'Electron.PT': ev.electron.pt, 'Electron.Eta': ev.electron.eta, 'Electron.Phi': ev.electron.phi, 'Electron.Charge': ev.electron.charge,
      'MuonTight.PT': ev.muon.pt, 'MuonTight.Eta': ev.muon.eta, 'MuonTight.Phi': ev.muon.phi, 'MuonTight.Charge': ev.muon.charge,
      'EFlowTrack.PT': ev.track.pt, 'EFlowTrack.Eta': ev.track.eta, 'EFlowTrack.Phi': ev.track.phi, 'EFlowTrack.PID': ev.track.pid,
      'EFlowTrack.Charge': ev.track.charge, 'EFlowTrack.X': ev.track.x, 'EFlowTrack.Y': ev.track.y, 'EFlowTrack.Z': ev.track.z,
      'EFlowPhoton.ET': ev.photon.et, 'EFlowPhoton.Eta': ev.photon.eta, 'EFlowPhoton.Phi': ev.photon.phi,
      'EFlowNeutralHadron.ET': ev.neutral.et, 'EFlowNeutralHadron.Eta': ev.neutral.eta, 'EFlowNeutralHadron.Phi': ev.neutral.phi,
      'Jet.PT': ev.jet.pt, 'Jet.Eta': ev.jet.eta, 'Jet.Phi': ev.jet.phi, 'Jet.BTag': ev.jet.btag,
    };
    for (const [name, values] of Object.entries(byBranch)) seen[name]?.push(normalise(values));
    metSeen.push(ev.met && { ...ev.met });
  });
  for (const [name, values] of Object.entries(seen)) {
    if (name.startsWith('MissingET.')) continue;
    assert.deepEqual(values, reference.columns[name], name);
  }
  const mets = reference.columns['MissingET.MET'] as Value[][];
  const phis = reference.columns['MissingET.Phi'] as Value[][];
  assert.deepEqual(
    metSeen.map((met) => met && { met: normalise(met.met), phi: normalise(met.phi) }),
    mets.map((met, i) => (met.length > 0 ? { met: met[0], phi: phis[i]?.[0] } : null)),
  );
  assert.ok(metSeen.some((met) => met === null), 'the generator writes some events with an empty MissingET');
  assert.equal(metSeen.length, 120);
});

// ---------------------------------------------------------------- broken files

describe('broken files give a RootReadError naming the file', () => {
  test('a truncated copy', async () => {
    const bytes = await readFile(DELPHES_FILE);
    const path = join(scratch, 'truncated.root');
    await writeFile(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await rejectsWith(openRootFile({ path }), 'truncated', path, [`${Math.floor(bytes.length / 2)} bytes`, `${bytes.length}`]);
    await rejectsWith(openRootFile({ bytes: bytes.subarray(0, 10), name: 'ten-bytes.root' }), 'truncated', 'ten-bytes.root');
  });

  test('random bytes, an empty file, a missing file', async () => {
    const path = join(scratch, 'random.root');
    await writeFile(path, Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7919 + 13) % 251)));
    await rejectsWith(openRootFile({ path }), 'not-root', path);
    await rejectsWith(openRootFile({ bytes: new Uint8Array(0), name: 'empty.root' }), 'not-root', 'empty.root');
    const absent = join(scratch, 'absent.root');
    await rejectsWith(openRootFile({ path: absent }), 'io', absent, ['ENOENT']);
  });

  test('a file without the requested tree lists the trees present', async () => {
    const file = await openRootFile({ path: HZZ('zlib') });
    await rejectsWith(file.tree('Delphes'), 'no-tree', HZZ('zlib'), ['"Delphes"', 'events']);
    await rejectsWith(readDelphesEvents(file, () => undefined), 'no-tree', HZZ('zlib'), ['events']);
  });

  test('missing branches are all named, before anything is read', async () => {
    const tree = await treeOf(HZZ('zlib'), 'events');
    let called = false;
    await rejectsWith(
      tree.read(['Jet_Px', 'Jet.PT', 'NJet', 'Nope'], () => {
        called = true;
      }),
      'missing-branch',
      HZZ('zlib'),
      ['Jet.PT', 'Nope', '2 requested'],
    );
    assert.ok(!called);
  });

  test('baskets whose zlib checksums are wrong (only native zlib checks them)', async () => {
    const bytes = Buffer.from(await readFile(HZZ('zlib')));
    const baskets = corruptBasketChecksums(bytes);
    assert.ok(baskets > 10, `found ${baskets} compressed baskets`);
    const file = await openRootFile({ bytes, name: 'bad-checksums.root' });
    const tree = await file.tree('events');
    await rejectsWith(tree.read(['Jet_Px'], () => undefined), 'corrupt', 'bad-checksums.root', ['basket data']);
  });

  test('garbage in uncompressed basket data', async () => {
    const bytes = Buffer.from(await readFile(HZZ('uncompressed')));
    scribble(bytes, 20_000, 2_000, 1);
    const tree = await (await openRootFile({ bytes, name: 'scribbled.root' })).tree('events');
    await rejectsWith(tree.read(['NJet', 'Jet_Px', 'Muon_Px', 'MET_px'], () => undefined), 'corrupt', 'scribbled.root');
  });

  test('damage anywhere: a RootReadError or every entry read, never a hang or an unhandled rejection', { timeout: 120_000 }, async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      for (const codec of ['zlib', 'uncompressed']) {
        const original = await readFile(HZZ(codec));
        const whole = await readColumns(await treeOf(HZZ(codec), 'events'), ['NJet', 'Jet_Px', 'MET_px']);
        for (let k = 0; k < 25; k++) {
          const bytes = Buffer.from(original);
          const offset = Math.floor(((k + 0.5) / 25) * bytes.length);
          scribble(bytes, offset, 512, k + 1);
          const name = `${codec}-damaged-at-${offset}.root`;
          try {
            const tree = await (await openRootFile({ bytes, name })).tree('events');
            const got = await readColumns(tree, ['NJet', 'Jet_Px', 'MET_px']);
            // Damage outside the baskets read (or inside, undetectably) still reads every entry.
            assert.equal(got.entries.length, whole.entries.length, name);
          } catch (err) {
            assert.ok(err instanceof RootReadError && err.message.startsWith(`${name}: `), `${name}: ${String(err)}`);
          }
        }
      }
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

/** Overwrites `length` bytes from `offset` with a seeded pseudo-random sequence. */
function scribble(bytes: Uint8Array, offset: number, length: number, seed: number): void {
  let state = seed;
  for (let i = offset; i < Math.min(bytes.length, offset + length); i++) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    bytes[i] = state & 0xff;
  }
}

/**
 * Flips the last byte (part of the adler32 trailer) of the zlib block of every
 * compressed TBasket; returns how many. jsroot's own inflate ignores the trailer.
 */
function corruptBasketChecksums(bytes: Buffer): number {
  const keys: number[] = [];
  for (let at = bytes.indexOf('\x07TBasket'); at >= 0; at = bytes.indexOf('\x07TBasket', at + 1)) keys.push(at);
  let count = 0;
  keys.forEach((key, i) => {
    const block = bytes.indexOf('ZL\x08', key);
    if (block < 0 || block >= (keys[i + 1] ?? bytes.length)) return; // stored uncompressed
    const compressed = (bytes[block + 3] ?? 0) | ((bytes[block + 4] ?? 0) << 8) | ((bytes[block + 5] ?? 0) << 16);
    const last = block + 9 + compressed - 1;
    bytes[last] = (bytes[last] ?? 0) ^ 0xff;
    count++;
  });
  return count;
}
