/** MinIO for engine tests: its buckets, and the standard AWS variables set so workers (which inherit them) reach it. */
import { after, before } from 'node:test';
import { join } from 'node:path';
import { startMinio, type MinioServer } from '../../infra/minio.js';
import type { Harness } from './harness.js';

export async function startMinioForWorkers(dataDir: string, buckets: string[]): Promise<MinioServer> {
  const minio = await startMinio({ dataDir });
  for (const b of buckets) await minio.createBucket(b);
  // Workers inherit these: the standard AWS variables, nothing in pipelines.yaml.
  process.env.AWS_ACCESS_KEY_ID = minio.accessKey;
  process.env.AWS_SECRET_ACCESS_KEY = minio.secretKey;
  process.env.AWS_ENDPOINT_URL = minio.endpoint;
  process.env.AWS_REGION = 'us-east-1';
  return minio;
}

/** The test file's hooks: MinIO with `buckets`, then the harness's server and one worker; all stopped after. Returns the server once started. */
export function withMinioAndWorker(h: Harness, buckets: string[]): () => MinioServer {
  let minio: MinioServer | undefined;
  before(async () => {
    minio = await startMinioForWorkers(join(h.tmp, 'minio'), buckets);
    await h.start();
    await h.startWorker();
  });
  after(async () => {
    await h.stop();
    await minio?.stop();
  });
  return () => minio!;
}
