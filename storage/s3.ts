/**
 * Storage in an S3 bucket (AWS, MinIO, Ceph, ...), below an optional key
 * prefix. Credentials come from the AWS default provider chain unless given;
 * errors are rewritten so that they never carry them.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  type _Object as S3Object,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { assertRange, assertSafeKey, assertSafePrefix, compareKeys, isSafeKey } from './keys.js';
import { StorageNotFoundError, type Body, type ObjectInfo, type PutResult, type Storage } from './storage.js';
import { bucketNameProblem } from './s3Root.js';

const PART_SIZE = 8 * 1024 * 1024;
const UPLOAD_QUEUE_SIZE = 2;
/** DeleteObjects' limit per request. */
const DELETE_BATCH = 1000;

// The SDK release is pinned (package.json) to one that supports Node 20, so its
// "future releases will need Node 22" notice is noise in every worker log.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface S3StorageOptions {
  bucket: string;
  /** Key prefix inside the bucket ('' or omitted: the bucket root); trailing '/' ignored. */
  prefix?: string;
  /** Endpoint URL of an S3-compatible service, e.g. http://127.0.0.1:9000. */
  endpoint?: string;
  /** Default: AWS_REGION, else 'us-east-1'. */
  region?: string;
  /** Default: true when an endpoint is given (MinIO and most S3-compatible services need it). */
  forcePathStyle?: boolean;
  /** Default: the AWS default provider chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profiles, roles). */
  credentials?: S3ClientConfig['credentials'];
  /** An attempt fails when the connection takes longer (default 5 s)... */
  connectTimeoutMs?: number;
  /** ...or when the response has not started this long after the request began, its body included (default 60 s): a hung service fails the call instead of stalling the stage. */
  requestTimeoutMs?: number;
  /** Attempts per request, with the SDK's exponential back-off between them (default 4). */
  maxAttempts?: number;
}

/** A failed S3 call; its message names the operation and URI, never credentials. */
export class S3StorageError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = 'S3StorageError';
  }
}

export class S3Storage implements Storage {
  readonly bucket: string;
  /** '' or a safe key, without trailing '/'. */
  readonly prefix: string;
  readonly rootUri: string;
  /** As configured (the torch kernel's S3 client is given the same service). */
  readonly endpoint: string | undefined;
  readonly region: string;
  private readonly client: S3Client;
  /** Named in errors: which service failed. */
  private readonly service: string;
  /** Prepended to every key: '' or `${prefix}/`. */
  private readonly keyBase: string;

  constructor(options: S3StorageOptions) {
    assertBucketName(options.bucket);
    this.bucket = options.bucket;
    this.prefix = (options.prefix ?? '').replace(/\/+$/, '');
    if (this.prefix !== '') assertSafeKey(this.prefix);
    this.keyBase = this.prefix === '' ? '' : `${this.prefix}/`;
    this.rootUri = `s3://${this.bucket}${this.prefix === '' ? '' : `/${this.prefix}`}`;
    this.endpoint = options.endpoint;
    this.region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
    const config: S3ClientConfig = {
      region: this.region,
      forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
    };
    if (options.endpoint !== undefined) config.endpoint = options.endpoint;
    if (options.credentials !== undefined) config.credentials = options.credentials;
    config.maxAttempts = options.maxAttempts ?? 4;
    config.requestHandler = { connectionTimeout: options.connectTimeoutMs ?? 5_000, requestTimeout: options.requestTimeoutMs ?? 60_000, throwOnRequestTimeout: true };
    this.service = options.endpoint !== undefined ? withoutUserInfo(options.endpoint) : 'AWS S3';
    this.client = new S3Client(config);
  }

  uri(key: string): string {
    assertSafeKey(key);
    return `${this.rootUri}/${key}`;
  }

  /** Closes the client's idle connections. */
  close(): void {
    this.client.destroy();
  }

  async put(key: string, body: Body): Promise<PutResult> {
    const Key = this.objectKey(key);
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const request = { Bucket: this.bucket, Key, Body: bytes, ContentLength: bytes.byteLength };
    await this.call('put', this.uri(key), () => this.client.send(new PutObjectCommand(request)));
    return { key, bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
  }

  async putIfAbsent(key: string, body: Body): Promise<boolean> {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const request = { Bucket: this.bucket, Key: this.objectKey(key), Body: bytes, ContentLength: bytes.byteLength, IfNoneMatch: '*' };
    try {
      await this.call('put', this.uri(key), () => this.client.send(new PutObjectCommand(request)));
      return true;
    } catch (err) {
      // 412: the object exists; 409: a concurrent conditional write to the key won.
      if (err instanceof S3StorageError && (err.status === 412 || err.status === 409)) return false;
      throw err;
    }
  }

  /** Multipart upload; S3 shows the object only once it completes, and a failed upload is aborted. */
  async putStream(key: string, body: AsyncIterable<Uint8Array> | Readable): Promise<PutResult> {
    const Key = this.objectKey(key);
    const hash = createHash('sha256');
    let bytes = 0;
    let sourceFailure: { error: unknown } | undefined;
    const tapped = Readable.from(
      (async function* () {
        try {
          for await (const chunk of body as AsyncIterable<unknown>) {
            const buf = toBytes(chunk);
            hash.update(buf);
            bytes += buf.byteLength;
            yield buf;
          }
        } catch (err) {
          sourceFailure = { error: err };
          throw err;
        }
      })(),
    );
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key, Body: tapped },
      partSize: PART_SIZE,
      queueSize: UPLOAD_QUEUE_SIZE,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      tapped.destroy(); // releases the caller's stream when S3 failed first
      if (sourceFailure !== undefined) throw sourceFailure.error;
      throw await this.toError(err, 'putStream', this.uri(key));
    }
    return { key, bytes, sha256: hash.digest('hex') };
  }

  async get(key: string): Promise<Uint8Array> {
    const Key = this.objectKey(key);
    return this.call('get', this.uri(key), async () => {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      return out.Body ? out.Body.transformToByteArray() : new Uint8Array(0);
    });
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    const Key = this.objectKey(key);
    assertRange(offset, length);
    if (length === 0) {
      if ((await this.stat(key)) === null) throw new StorageNotFoundError(this.uri(key));
      return new Uint8Array(0);
    }
    const Range = `bytes=${offset}-${offset + length - 1}`; // S3 clamps the end to the object's size
    try {
      return await this.call('getRange', this.uri(key), async () => {
        const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key, Range }));
        return out.Body ? out.Body.transformToByteArray() : new Uint8Array(0);
      });
    } catch (err) {
      // 416: the offset is at or past the end of an existing object.
      if (err instanceof S3StorageError && err.status === 416) return new Uint8Array(0);
      throw err;
    }
  }

  async getStream(key: string): Promise<Readable> {
    const Key = this.objectKey(key);
    const out = await this.call('getStream', this.uri(key), () =>
      this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key })),
    );
    if (!(out.Body instanceof Readable)) {
      throw new Error(`S3 getStream ${this.uri(key)}: the response has no Node stream body`);
    }
    return out.Body;
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    const Key = this.objectKey(key);
    try {
      const out = await this.call('stat', this.uri(key), () =>
        this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key })),
      );
      return { key, size: out.ContentLength ?? 0, ...(out.ETag ? { etag: out.ETag } : {}) };
    } catch (err) {
      if (err instanceof StorageNotFoundError) return null;
      throw err;
    }
  }

  /** Keys that are not safe keys (directory markers 'a/', keys written by other tools) are left out. */
  async list(prefix: string): Promise<ObjectInfo[]> {
    assertSafePrefix(prefix);
    const out: ObjectInfo[] = [];
    for await (const obj of this.listRaw(prefix)) {
      const key = (obj.Key ?? '').slice(this.keyBase.length);
      if (isSafeKey(key)) out.push({ key, size: obj.Size ?? 0, ...(obj.ETag ? { etag: obj.ETag } : {}) });
    }
    return out.sort((a, b) => compareKeys(a.key, b.key));
  }

  async delete(key: string): Promise<void> {
    const Key = this.objectKey(key);
    await this.call('delete', this.uri(key), () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key })),
    );
  }

  /** Everything under the prefix, directory markers included. */
  async deletePrefix(prefix: string): Promise<number> {
    assertSafePrefix(prefix);
    let count = 0;
    let batch: string[] = [];
    for await (const obj of this.listRaw(prefix)) {
      if (obj.Key !== undefined) batch.push(obj.Key);
      if (batch.length === DELETE_BATCH) {
        count += await this.deleteBatch(prefix, batch);
        batch = [];
      }
    }
    if (batch.length > 0) count += await this.deleteBatch(prefix, batch);
    return count;
  }

  private async deleteBatch(prefix: string, keys: string[]): Promise<number> {
    const out = await this.call('deletePrefix', this.prefixUri(prefix), () =>
      this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
        }),
      ),
    );
    const failed = out.Errors ?? [];
    if (failed.length > 0) {
      const first = failed[0];
      throw new S3StorageError(
        await this.redact(
          `S3 deletePrefix ${this.prefixUri(prefix)}: ${failed.length} of ${keys.length} deletions failed, ` +
            `first ${first?.Key}: ${first?.Code}: ${first?.Message}`,
        ),
        first?.Code ?? 'DeleteFailed',
        undefined,
      );
    }
    return keys.length;
  }

  /** Every object under the prefix, one ListObjectsV2 page at a time. */
  private async *listRaw(prefix: string): AsyncGenerator<S3Object> {
    const Prefix = this.keyBase + prefix;
    let ContinuationToken: string | undefined;
    do {
      const page = await this.call('list', this.prefixUri(prefix), () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix, ContinuationToken })),
      );
      yield* page.Contents ?? [];
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken !== undefined);
  }

  private objectKey(key: string): string {
    assertSafeKey(key);
    return this.keyBase + key;
  }

  private prefixUri(prefix: string): string {
    return `${this.rootUri}/${prefix}`;
  }

  /** Runs one S3 request; its failure becomes StorageNotFoundError or a credential-free S3StorageError. */
  private async call<T>(op: string, uri: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      throw await this.toError(err, op, uri);
    }
  }

  /** A new error without `cause`: SDK errors carry request/response details we do not want logged. */
  private async toError(err: unknown, op: string, uri: string): Promise<Error> {
    const e = (err ?? {}) as SdkErrorFields;
    const code = e.Code ?? e.code ?? e.name ?? 'Error';
    const status = e.$metadata?.httpStatusCode;
    if (code === 'NoSuchKey' || code === 'NotFound' || (status === 404 && code !== 'NoSuchBucket')) {
      return new StorageNotFoundError(uri);
    }
    const where = status === undefined ? '' : ` (HTTP ${status})`;
    const message = await this.redact(`S3 ${op} ${uri} failed (at ${this.service}): ${code}${where}: ${e.message ?? String(err)}`);
    return new S3StorageError(message, code, status);
  }

  /** Masks the client's credential values, should a service ever echo them. */
  private async redact(text: string): Promise<string> {
    let secrets: (string | undefined)[] = [];
    try {
      const c = await this.client.config.credentials();
      secrets = [c.accessKeyId, c.secretAccessKey, c.sessionToken];
    } catch {
      // no credentials resolved: nothing to mask
    }
    for (const secret of secrets) {
      if (secret && secret.length >= 4) text = text.split(secret).join('***');
    }
    return text;
  }
}

/** What SDK (and Node network) errors may carry. */
interface SdkErrorFields {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** An endpoint URL as it may appear in messages: any user:password@ part removed. */
function withoutUserInfo(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    url.username = '';
    url.password = '';
    return url.href.replace(/\/$/, '');
  } catch {
    return '(endpoint)';
  }
}

function assertBucketName(bucket: string): void {
  const problem = bucketNameProblem(bucket);
  if (problem !== undefined) throw new Error(`invalid S3 bucket name; expected ${problem}`);
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  throw new TypeError(`stream chunks must be Uint8Array or string, got ${typeof chunk}`);
}
