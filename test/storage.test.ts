/**
 * The storage contract, run against LocalStorage (temp directory) and
 * S3Storage (a real MinIO started here), plus backend-specific checks.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat as fsStat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import { HeadObjectCommand, ListMultipartUploadsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { StorageSpec } from '../storage/spec.js';
import { bucketNameFaults } from '../storage/s3Root.js';
import { compileGlob, isPattern } from '../storage/glob.js';
import { PipelineRunInput } from '../protocol/protocol.js';
import { startMinio, type MinioServer } from '../infra/minio.js';
import { freePort } from '../infra/ports.js';
import {
  LocalStorage,
  S3Storage,
  S3StorageError,
  StorageNotFoundError,
  UnsafeKeyError,
  assertSafeKey,
  joinKey,
  openStorage,
  storageRootFromString,
  type Storage,
} from '../storage/index.js';

const MiB = 1024 * 1024;
const UNSAFE_KEYS = ['../x', '/etc/passwd', 'a/../../b', 'a//b', 'a\\b', '', 'a/./b', 'a/', 'x\u0000y'];
const UNSAFE_PREFIXES = ['../', '/etc/', 'a//', 'a\\b/', '../x', 'a/../'];

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');
const text = (data: Uint8Array) => Buffer.from(data).toString('utf8');

/** `count` chunks of 1 MiB, chunk i filled with byte i. */
async function* mibChunks(count: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < count; i++) {
    await tick(); // a producer that really is asynchronous
    yield Buffer.alloc(MiB, i);
  }
}

/** `mib` MiB of data, then an error: a writer that dies mid-stream. */
async function* failingBody(mib: number): AsyncGenerator<Uint8Array> {
  yield* mibChunks(mib);
  throw new Error('source failed mid-stream');
}

async function collectChunks(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

const collect = (stream: Readable) => collectChunks(stream as AsyncIterable<Uint8Array>);

/** Every regular file below dir (relative paths), temp files included. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

async function exists(path: string): Promise<boolean> {
  return fsStat(path).then(
    () => true,
    () => false,
  );
}

/**
 * The contract every backend meets. `offline()` is a storage of the same kind
 * on which any I/O would fail or leave a trace (checked by `assertNoIo`).
 */
interface Offline {
  storage: Storage;
  assertNoIo: () => Promise<void>;
}

function storageContract(get: () => Storage, offline: () => Offline): void {
  test('put/get round trip with sha256 and byte count', async () => {
    const s = get();
    const body = 'hello, calorimeter\n';
    const res = await s.put('roundtrip/hello.txt', body);
    assert.deepEqual(res, { key: 'roundtrip/hello.txt', bytes: Buffer.byteLength(body), sha256: sha256(body) });
    assert.equal(text(await s.get('roundtrip/hello.txt')), body);

    const binary = randomBytes(1000);
    const res2 = await s.put('roundtrip/bin', binary);
    assert.equal(res2.sha256, sha256(binary));
    assert.deepEqual(Buffer.from(await s.get('roundtrip/bin')), binary);

    await s.put('roundtrip/hello.txt', 'replaced');
    assert.equal(text(await s.get('roundtrip/hello.txt')), 'replaced');
  });

  test('putIfAbsent: of eight concurrent creators exactly one wins, and the object is its body; an existing key is left alone', async () => {
    const s = get();
    const wins = await Promise.all(Array.from({ length: 8 }, (_, i) => s.putIfAbsent('exclusive/lease.json', `writer ${i}`)));
    assert.equal(wins.filter(Boolean).length, 1);
    assert.equal(text(await s.get('exclusive/lease.json')), `writer ${wins.indexOf(true)}`);
    assert.equal(await s.putIfAbsent('exclusive/lease.json', 'late'), false);
    assert.equal(text(await s.get('exclusive/lease.json')), `writer ${wins.indexOf(true)}`);
    assert.deepEqual((await s.list('exclusive/')).map((o) => o.key), ['exclusive/lease.json']);
  });

  test('empty object', async () => {
    const s = get();
    assert.deepEqual(await s.put('empty/zero', ''), { key: 'empty/zero', bytes: 0, sha256: sha256('') });
    assert.equal((await s.get('empty/zero')).byteLength, 0);
    assert.deepEqual(sizeOf(await s.stat('empty/zero')), { key: 'empty/zero', size: 0 });
    assert.equal((await s.getRange('empty/zero', 0, 5)).byteLength, 0);
  });

  test('putStream of 12 MiB from an async generator (multipart on S3)', async () => {
    const s = get();
    const expected = await collectChunks(mibChunks(12));
    const res = await s.putStream('stream/big.bin', mibChunks(12));
    assert.deepEqual(res, { key: 'stream/big.bin', bytes: 12 * MiB, sha256: sha256(expected) });
    const back = await s.get('stream/big.bin');
    assert.equal(sha256(back), sha256(expected));
    // Across the 8 MiB part boundary.
    assert.deepEqual([...(await s.getRange('stream/big.bin', 8 * MiB - 2, 4))], [7, 7, 8, 8]);
  });

  test('getRange: inside, at the end, clamped, past the end, zero length', async () => {
    const s = get();
    await s.put('range/ten', 'abcdefghij');
    assert.equal(text(await s.getRange('range/ten', 0, 3)), 'abc');
    assert.equal(text(await s.getRange('range/ten', 7, 3)), 'hij');
    assert.equal(text(await s.getRange('range/ten', 8, 5)), 'ij');
    assert.equal(text(await s.getRange('range/ten', 9, 1)), 'j');
    assert.equal((await s.getRange('range/ten', 10, 1)).byteLength, 0);
    assert.equal((await s.getRange('range/ten', 25, 4)).byteLength, 0);
    assert.equal((await s.getRange('range/ten', 4, 0)).byteLength, 0);
    await assert.rejects(s.getRange('range/missing', 0, 4), StorageNotFoundError);
    await assert.rejects(s.getRange('range/missing', 0, 0), StorageNotFoundError);
    await assert.rejects(s.getRange('range/ten', -1, 4), RangeError);
    await assert.rejects(s.getRange('range/ten', 0, 1.5), RangeError);
  });

  test('getStream', async () => {
    const s = get();
    const body = randomBytes(300_000);
    await s.put('gs/obj', body);
    assert.deepEqual(await collect(await s.getStream('gs/obj')), body);
    await assert.rejects(s.getStream('gs/missing'), StorageNotFoundError);
  });

  test('stat present and absent', async () => {
    const s = get();
    await s.put('stat/dir/x', '12345');
    const info = await s.stat('stat/dir/x');
    assert.deepEqual(sizeOf(info), { key: 'stat/dir/x', size: 5 });
    // An identity that changes when the object is rewritten: the ETag on S3, the mtime locally.
    assert.ok(info?.etag !== undefined || info?.mtimeMs !== undefined, 'stat gives an etag or an mtime');
    assert.equal(await s.stat('stat/dir/missing'), null);
    assert.equal(await s.stat('stat/nowhere/at/all'), null);
    assert.equal(await s.stat('stat/dir'), null, 'a "directory" is not an object');
  });

  test('list: prefix, recursive, sorted, with sizes', async () => {
    const s = get();
    for (const key of ['ls/b', 'ls/a/2', 'ls/c', 'ls/a/1', 'lsx/d', 'ls.txt']) await s.put(key, key);
    const keys = async (prefix: string) => (await s.list(prefix)).map((o) => o.key);
    assert.deepEqual((await s.list('ls/')).map(sizeOf), [
      { key: 'ls/a/1', size: 6 },
      { key: 'ls/a/2', size: 6 },
      { key: 'ls/b', size: 4 },
      { key: 'ls/c', size: 4 },
    ]);
    assert.deepEqual(await keys('ls'), ['ls.txt', 'ls/a/1', 'ls/a/2', 'ls/b', 'ls/c', 'lsx/d']);
    assert.deepEqual(await keys('ls/a'), ['ls/a/1', 'ls/a/2']);
    assert.deepEqual(await keys('ls/a/1'), ['ls/a/1']);
    assert.deepEqual(await keys('nothing-here/'), []);
    const all = await keys('');
    assert.ok(['ls.txt', 'ls/a/1', 'lsx/d'].every((k) => all.includes(k)));
    assert.deepEqual(all, [...all].sort());
  });

  test('delete', async () => {
    const s = get();
    await s.put('del/x', 'x');
    await s.delete('del/x');
    assert.equal(await s.stat('del/x'), null);
    await assert.rejects(s.get('del/x'), StorageNotFoundError);
    await s.delete('del/x'); // absent: no error
    await s.delete('del/never/existed');
  });

  test('deletePrefix returns the count and spares neighbours', async () => {
    const s = get();
    for (const key of ['dp/a', 'dp/b/c', 'dp/b/d', 'dpx/e']) await s.put(key, 'v');
    assert.equal(await s.deletePrefix('dp/'), 3);
    assert.deepEqual(
      (await s.list('dp')).map((o) => o.key),
      ['dpx/e'],
    );
    assert.equal(await s.deletePrefix('dp/'), 0);
    assert.equal(await s.deletePrefix('dpx'), 1);
  });

  test('list and deletePrefix over more than 1000 objects (pages, batches)', async () => {
    const s = get();
    const keys = Array.from({ length: 1005 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => s.put(k, 'x')));
    assert.deepEqual(
      (await s.list('many/')).map((o) => o.key),
      keys,
    );
    assert.equal(await s.deletePrefix('many/'), 1005);
    assert.deepEqual(await s.list('many/'), []);
  });

  test('get of a missing key throws StorageNotFoundError with its URI', async () => {
    const s = get();
    const err = await s.get('missing/key').then(
      () => assert.fail('get resolved'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof StorageNotFoundError, String(err));
    assert.equal(err.uri, s.uri('missing/key'));
  });

  test('a stream that fails mid-way leaves no object', async () => {
    const s = get();
    await assert.rejects(s.putStream('failing/obj', failingBody(9)), /source failed mid-stream/);
    assert.deepEqual(await s.list('failing/'), []);
    assert.equal(await s.stat('failing/obj'), null);
  });

  test('unsafe keys are rejected by every method before any I/O', async () => {
    const { storage: s, assertNoIo } = offline();
    let streamStarted = false;
    const body = (async function* () {
      streamStarted = true;
      await tick();
      yield Buffer.from('x');
    })();
    for (const key of UNSAFE_KEYS) {
      const calls: [string, () => Promise<unknown>][] = [
        ['put', () => s.put(key, 'x')],
        ['putStream', () => s.putStream(key, body)],
        ['get', () => s.get(key)],
        ['getRange', () => s.getRange(key, 0, 1)],
        ['getStream', () => s.getStream(key)],
        ['stat', () => s.stat(key)],
        ['delete', () => s.delete(key)],
        ['uri', () => Promise.resolve().then(() => s.uri(key))],
      ];
      for (const [name, call] of calls) await assert.rejects(call, UnsafeKeyError, `${name}(${JSON.stringify(key)})`);
    }
    for (const prefix of UNSAFE_PREFIXES) {
      await assert.rejects(() => s.list(prefix), UnsafeKeyError, `list(${JSON.stringify(prefix)})`);
      await assert.rejects(() => s.deletePrefix(prefix), UnsafeKeyError, `deletePrefix(${JSON.stringify(prefix)})`);
    }
    assert.equal(streamStarted, false, 'putStream read its body');
    await assertNoIo();
  });
}

describe('keys', () => {
  test('assertSafeKey accepts ordinary keys', () => {
    const keys = ['a', 'a/b.c', 'runs/2024-01-01/x_y.parquet', 'données/é', 'a'.repeat(1024)];
    for (const key of keys) assertSafeKey(key);
  });

  test('assertSafeKey rejects unsafe keys', () => {
    for (const key of [...UNSAFE_KEYS, 'a'.repeat(1025), 'é'.repeat(513), 'a\nb', 'x.partial-1-ab', '.', '..']) {
      assert.throws(() => assertSafeKey(key), UnsafeKeyError, JSON.stringify(key));
    }
  });

  test('joinKey joins and validates', () => {
    assert.equal(joinKey('runs', 'r1/stage', 'out.bin'), 'runs/r1/stage/out.bin');
    assert.throws(() => joinKey('runs', '..', 'x'), UnsafeKeyError);
    assert.throws(() => joinKey('runs/', 'x'), UnsafeKeyError);
    assert.throws(() => joinKey(), UnsafeKeyError);
  });
});

describe('globs over keys', () => {
  test('* and ? stay in one segment, ** spans segments, a trailing / is a prefix; listing starts at the literal folder', () => {
    const one = compileGlob('delphes/ttbar/*.root');
    assert.equal(one.base, 'delphes/ttbar/');
    assert.ok(one.test('delphes/ttbar/a.root'));
    assert.ok(!one.test('delphes/ttbar/x/a.root'), '* does not cross /');
    assert.ok(!one.test('delphes/ttbar/a.rootx'));
    const deep = compileGlob('incoming/wjets/**/*.root');
    assert.equal(deep.base, 'incoming/wjets/');
    for (const k of ['incoming/wjets/a.root', 'incoming/wjets/x/y/a.root']) assert.ok(deep.test(k), k);
    assert.ok(!deep.test('incoming/wjetsX/a.root'));
    const prefix = compileGlob('incoming/', '**/*.root');
    assert.ok(prefix.test('incoming/q/a.root') && !prefix.test('incoming/a.txt'));
    assert.ok(compileGlob('/data/f?.root').test('/data/f1.root') && !compileGlob('/data/f?.root').test('/data/f12.root'));
    assert.ok(compileGlob('a+b(1)/*.root').test('a+b(1)/x.root'), 'regex characters are literal');
    assert.equal(compileGlob('*.root').base, '');
    assert.deepEqual(['a/b.root', 'a/*.root', 'a/', 'a/b?.root'].map(isPattern), [false, true, true, true]);
  });
});

describe('storageRootFromString and openStorage', () => {
  const base = '/base/dir';
  const cases: [string, string][] = [
    ['./data/store', 'file:///base/dir/data/store'],
    ['data/store', 'file:///base/dir/data/store'],
    ['file:./data/store', 'file:///base/dir/data/store'],
    ['file:data/store', 'file:///base/dir/data/store'],
    ['file://./data/store', 'file:///base/dir/data/store'],
    ['../up', 'file:///base/up'],
    ['/abs/x', 'file:///abs/x'],
    ['/abs/x/', 'file:///abs/x'],
    ['file:///abs/x', 'file:///abs/x'],
    ['file://localhost/abs/x', 'file:///abs/x'],
    ['/abs/with space', 'file:///abs/with%20space'],
    ['file:///abs/with%20space', 'file:///abs/with%20space'],
    ['  s3://bucket-1/p/q/  ', 's3://bucket-1/p/q'],
    ['s3://bucket', 's3://bucket'],
  ];
  for (const [input, expected] of cases) {
    test(`${JSON.stringify(input)} → ${expected}`, () => {
      const root = storageRootFromString(input, base);
      assert.equal(root, expected);
      StorageSpec.parse({ root });
    });
  }

  const badRoots = ['', 's3://Bucket/x', 's3://b/../x', 's3://bucket/a//b', 'http://host/x', 'file://host/x', '/', 'file:///'];
  for (const bad of badRoots) {
    test(`rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(() => storageRootFromString(bad, base));
    });
  }

  test('openStorage picks the backend by scheme', () => {
    const local = openStorage({ root: 'file:///tmp/topoflow%20store' });
    assert.ok(local instanceof LocalStorage);
    assert.equal(local.root, '/tmp/topoflow store');
    assert.equal(local.uri('a/b'), 'file:///tmp/topoflow%20store/a/b');

    const s3 = openStorage({ root: 's3://bucket/some/prefix/', endpoint: 'http://127.0.0.1:9000' });
    assert.ok(s3 instanceof S3Storage);
    assert.equal(s3.bucket, 'bucket');
    assert.equal(s3.prefix, 'some/prefix');
    assert.equal(s3.uri('a/b'), 's3://bucket/some/prefix/a/b');
    s3.close();

    assert.throws(() => openStorage({ root: 'http://x/y' }));
    assert.throws(() => openStorage({ root: 's3://b/../x' }));
  });
});

describe('S3 roots: the bucket naming rules, checked before a run starts', () => {
  const RULES = 'a bucket name of 3-63 lowercase letters, digits, "." or "-" that starts and ends with a letter or digit';

  test('valid bucket names break no rule', () => {
    for (const bucket of ['abc', 'hep-bucket', 'my.bucket.1', '1bucket', 'a'.repeat(63)]) assert.deepEqual(bucketNameFaults(bucket), [], bucket);
  });

  const bad: Array<[string, string[]]> = [
    ['Bad_Bucket', ['has uppercase letters', 'contains "_"']],
    ['ab', ['is 2 characters long']],
    ['a'.repeat(64), ['is 64 characters long']],
    ['-bucket', ['starts with "-"']],
    ['bucket.', ['ends with "."']],
    ['my bucket!', ['contains " ", "!"', 'ends with "!"']],
    ['my..bucket', ['has two adjacent periods']],
    ['192.168.5.4', ['is formatted as an IP address']],
    ['', ['is empty']],
  ];
  for (const [bucket, faults] of bad) {
    test(`${JSON.stringify(bucket)}: ${faults.join(', ')}`, () => assert.deepEqual(bucketNameFaults(bucket), faults));
  }

  test('the storage spec (the workflow checks run input with it) rejects a bad root at "root", saying what is wrong', () => {
    const issues = (root: string) => {
      const parsed = StorageSpec.safeParse({ root });
      assert.ok(!parsed.success, root);
      return parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    assert.deepEqual(issues('s3://Bad_Bucket/x'), [`root: invalid S3 root "s3://Bad_Bucket/x"; expected s3://bucket/prefix with ${RULES}, but "Bad_Bucket" has uppercase letters and contains "_"`]);
    assert.deepEqual(issues('s3://bucket/a/../x'), ['root: invalid S3 root "s3://bucket/a/../x"; the prefix "a/../x" is not a valid storage key (".." segment)']);
    assert.deepEqual(issues('ftp://x'), ['root: expected file:///absolute/path or s3://bucket/prefix'], 'one message for a root of the wrong form');
    const input = PipelineRunInput.safeParse({ pipeline: 'demo', storage: { root: 's3://Bad_Bucket/x' } });
    assert.ok(!input.success);
    assert.deepEqual(input.error.issues.map((i) => i.path.join('.')), ['storage.root']);
  });

  test('S3Storage says which rule a bucket name breaks', () => {
    assert.throws(() => new S3Storage({ bucket: 'Bad_Bucket' }), { message: `invalid S3 bucket name; expected ${RULES}, but "Bad_Bucket" has uppercase letters and contains "_"` });
  });
});

describe('LocalStorage', () => {
  let dir = '';
  let storage: LocalStorage;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'topoflow-storage-'));
    const opened = openStorage({ root: pathToFileURL(join(dir, 'root')).href });
    assert.ok(opened instanceof LocalStorage);
    storage = opened;
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  storageContract(
    () => storage,
    () => {
      const root = join(dir, 'never-created');
      return {
        storage: new LocalStorage(root),
        assertNoIo: async () => assert.equal(await exists(root), false, 'the root was created'),
      };
    },
  );

  test('a failed stream leaves no file at all, temp files included', async () => {
    await assert.rejects(storage.putStream('failing-local/obj', failingBody(2)), /source failed/);
    assert.deepEqual(await filesUnder(join(storage.root, 'failing-local')), []);
  });

  test("a crashed writer's .partial- file is invisible and removed by deletePrefix", async () => {
    await mkdir(join(storage.root, 'crash'), { recursive: true });
    await writeFile(join(storage.root, 'crash', 'obj.partial-99999-deadbeef'), 'half written');
    await storage.put('crash/real', 'done');
    assert.deepEqual((await storage.list('crash/')).map(sizeOf), [{ key: 'crash/real', size: 4 }]);
    assert.ok((await storage.list('')).every((o) => !o.key.includes('.partial-')));
    assert.equal(await storage.stat('crash/obj'), null);
    await assert.rejects(storage.get('crash/obj'), StorageNotFoundError);
    assert.equal(await storage.deletePrefix('crash/'), 1, 'temp files are not counted as objects');
    assert.equal(await exists(join(storage.root, 'crash')), false);
  });

  test('symlinks cannot lead outside the root', async () => {
    const outside = join(dir, 'outside');
    await mkdir(outside, { recursive: true });
    await writeFile(join(outside, 'secret'), 'secret');
    await symlink(outside, join(storage.root, 'dirlink'));
    await symlink(join(outside, 'secret'), join(storage.root, 'filelink'));

    await assert.rejects(storage.get('dirlink/secret'), UnsafeKeyError);
    await assert.rejects(storage.put('dirlink/new', 'x'), UnsafeKeyError);
    await assert.rejects(storage.put('dirlink/sub/new', 'x'), UnsafeKeyError);
    await assert.rejects(storage.deletePrefix('dirlink/'), UnsafeKeyError);
    assert.deepEqual(await readdir(outside), ['secret']);

    await assert.rejects(storage.get('filelink'), StorageNotFoundError);
    assert.equal(await storage.stat('filelink'), null);
    const listed = (await storage.list('')).map((o) => o.key);
    assert.ok(!listed.some((k) => k.startsWith('dirlink') || k === 'filelink'), listed.join(','));
  });

  test('uri is a file URL inside the root', () => {
    assert.equal(storage.uri('a/b c'), pathToFileURL(join(storage.root, 'a', 'b c')).href);
  });
});

describe('S3Storage on MinIO', () => {
  const bucket = 'topoflow-test';
  let dir = '';
  let minio: MinioServer | undefined;
  let storage: S3Storage;
  let raw: S3Client;
  const savedEnv = { ...process.env };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'topoflow-minio-'));
    minio = await startMinio({ dataDir: join(dir, 'data') });
    await minio.createBucket(bucket);
    // The production path: credentials from the standard AWS environment variables.
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    process.env.AWS_ACCESS_KEY_ID = minio.accessKey;
    process.env.AWS_SECRET_ACCESS_KEY = minio.secretKey;
    const opened = openStorage({ root: `s3://${bucket}/ci/run`, endpoint: minio.endpoint });
    assert.ok(opened instanceof S3Storage);
    storage = opened;
    raw = new S3Client({
      endpoint: minio.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: minio.accessKey, secretAccessKey: minio.secretKey },
    });
  });

  after(async () => {
    storage?.close();
    raw?.destroy();
    process.env = savedEnv;
    await minio?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  storageContract(
    () => storage,
    () => ({
      // Nothing listens on this port: any request would fail with a connection error.
      storage: new S3Storage({
        bucket,
        endpoint: 'http://127.0.0.1:9',
        credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' },
      }),
      assertNoIo: async () => {},
    }),
  );

  test('putStream really uploads in parts, and a failed one leaves no upload behind', async () => {
    await storage.putStream('parts/obj', mibChunks(17));
    const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: 'ci/run/parts/obj' }));
    assert.match(head.ETag ?? '', /-3"$/, 'a 3-part multipart ETag');

    await assert.rejects(storage.putStream('parts/failed', failingBody(20)), /source failed/);
    const uploads = await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'ci/run/parts/failed' }));
    assert.deepEqual(uploads.Uploads ?? [], [], 'the multipart upload was aborted');
    assert.equal(await storage.stat('parts/failed'), null);
  });

  test('the root prefix isolates: siblings and directory markers are left alone', async () => {
    await raw.send(new PutObjectCommand({ Bucket: bucket, Key: 'ci/run2/sibling', Body: 's' }));
    const marker = { Bucket: bucket, Key: 'ci/run/marker/', Body: new Uint8Array(0), ContentLength: 0 };
    await raw.send(new PutObjectCommand(marker));
    await storage.put('iso/x', 'x');
    const keys = (await storage.list('')).map((o) => o.key);
    assert.ok(keys.includes('iso/x'));
    assert.ok(!keys.some((k) => k.includes('sibling') || k.startsWith('marker')), keys.join(','));
    assert.equal(storage.uri('iso/x'), `s3://${bucket}/ci/run/iso/x`);
    assert.equal(storage.rootUri, `s3://${bucket}/ci/run`);

    assert.equal(await storage.deletePrefix('marker/'), 1);
    const sibling = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: 'ci/run2/sibling' }));
    assert.equal(sibling.ContentLength, 1);
  });

  test('wrong credentials give an S3StorageError without the credentials', async () => {
    assert.ok(minio);
    const secret = `wrong-${randomBytes(12).toString('hex')}`;
    const bad = new S3Storage({
      bucket,
      endpoint: minio.endpoint,
      credentials: { accessKeyId: minio.accessKey, secretAccessKey: secret },
    });
    try {
      const err = await bad.put('x', 'x').then(
        () => assert.fail('put resolved'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof S3StorageError, String(err));
      assert.equal(err.status, 403);
      const shown = inspect(err, { depth: 10, showHidden: true });
      assert.ok(shown.includes(`s3://${bucket}/x`), shown);
      assert.ok(!shown.includes(secret) && !shown.includes(minio.accessKey), shown);
    } finally {
      bad.close();
    }
  });
});

describe('startMinio', () => {
  test("a failed start says why, with minio's own output", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'topoflow-minio-fail-'));
    const taken = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    try {
      await assert.rejects(startMinio({ dataDir: join(dir, 'data'), port }), /stopped before it was ready[^]*already in use/);
    } finally {
      taken.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('S3Storage error redaction', () => {
  test('credentials echoed by a service are masked', async () => {
    const accessKeyId = `AKIA${randomBytes(8).toString('hex')}`;
    const secretAccessKey = randomBytes(20).toString('hex');
    const server = createServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0"?><Error><Code>AccessDenied</Code>` +
          `<Message>denied for ${accessKeyId} / ${secretAccessKey}</Message></Error>`,
      );
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const s = new S3Storage({
      bucket: 'b-echo',
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId, secretAccessKey },
    });
    try {
      const err = await s.get('k').then(
        () => assert.fail('get resolved'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof S3StorageError, String(err));
      assert.equal(err.code, 'AccessDenied');
      const shown = inspect(err, { depth: 10, showHidden: true });
      assert.match(shown, /denied for \*\*\* \/ \*\*\*/);
      assert.ok(!shown.includes(accessKeyId) && !shown.includes(secretAccessKey), shown);
    } finally {
      s.close();
      server.close();
    }
  });
});

describe('S3Storage against a service that accepts connections and never answers', () => {
  test('every call times out, is retried with back-off, then fails naming the endpoint, the operation and the key, never the credentials', async () => {
    const sockets = new Set<Socket>();
    const server = createTcpServer((socket) => void sockets.add(socket)); // accepts, never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const secret = 'hung-service-secret-key-0123456789';
    const s3 = new S3Storage({ bucket: 'hung-bucket', endpoint, requestTimeoutMs: 300, maxAttempts: 2, credentials: { accessKeyId: 'AKIAHUNGSERVICE0001', secretAccessKey: secret } });
    try {
      const t0 = Date.now();
      for (const call of [() => s3.put('runs/k.json', '{}'), () => s3.get('runs/k.json'), () => s3.list('runs/')]) {
        await assert.rejects(call(), (err: unknown) => {
          assert.ok(err instanceof S3StorageError, String(err));
          assert.match(err.message, new RegExp(`^S3 (put|get|list) s3://hung-bucket/runs/(k\\.json)? failed \\(at ${endpoint.replace(/\./g, '\\.')}\\)`));
          assert.ok(!err.message.includes(secret) && !err.message.includes('AKIAHUNGSERVICE0001'), err.message);
          return true;
        });
      }
      assert.ok(Date.now() - t0 < 20_000, `three calls failed within ${Date.now() - t0} ms`);
      assert.ok(sockets.size >= 6, `each call was attempted twice (${sockets.size} connections)`);
    } finally {
      s3.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

/** Key and size only: stat and list also give an etag (S3) or mtime (local), which vary. */
function sizeOf(info: { key: string; size: number } | null): { key: string; size: number } | null {
  return info && { key: info.key, size: info.size };
}
