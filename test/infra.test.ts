import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import {
  SEARCH_ATTRIBUTES,
  connectionOptionsFromEnv,
  startTemporalDevServer,
  type TemporalDevServer,
} from '../infra/temporal.js';
import { freePort } from '../infra/ports.js';

const dir = mkdtempSync(join(tmpdir(), 'topoflow-infra-'));
const servers: TemporalDevServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

async function start(opts: Parameters<typeof startTemporalDevServer>[0]): Promise<TemporalDevServer> {
  const server = await startTemporalDevServer(opts);
  servers.push(server);
  return server;
}

/** temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD */
const INDEXED_VALUE_TYPE_KEYWORD = 2;
const pipelineName = defineSearchAttributeKey('PipelineName', SearchAttributeType.KEYWORD);

async function withClient<T>(server: TemporalDevServer, fn: (client: Client, connection: Connection) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address: server.address });
  try {
    return await fn(new Client({ connection, namespace: server.namespace }), connection);
  } finally {
    await connection.close();
  }
}

test('freePort gives a port in range', async () => {
  const port = await freePort();
  assert.ok(Number.isInteger(port) && port > 0 && port < 65536, `port ${port}`);
});

test('dev server: search attributes, UI, persistence across stop and crash', async () => {
  const dbFile = join(dir, 'temporal.db');
  const logFile = join(dir, 'temporal.log');
  const workflowId = 'infra-test-persistence';

  let server = await start({ dbFile, logFile });
  assert.match(server.address, /^127\.0\.0\.1:\d+$/);
  assert.equal(server.namespace, 'default');
  assert.ok(server.pid > 0);
  assert.ok(server.uiUrl?.startsWith('http://127.0.0.1:'), `uiUrl: ${server.uiUrl}`);
  const ui = await fetch(server.uiUrl!);
  assert.equal(ui.status, 200);
  await ui.body?.cancel();

  await withClient(server, async (client, connection) => {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    for (const name of Object.keys(SEARCH_ATTRIBUTES)) {
      assert.equal(customAttributes[name], INDEXED_VALUE_TYPE_KEYWORD, `search attribute ${name}`);
    }
    // No worker polls this queue: the workflow just stays open, which is enough to see it survive restarts.
    await client.workflow.start('noSuchWorkflow', {
      taskQueue: 'infra-test-nobody',
      workflowId,
      typedSearchAttributes: [{ key: pipelineName, value: 'infra-test' }],
    });
  });

  // Clean stop, restart on the same file (headless this time).
  await server.stop();
  await server.stop(); // idempotent
  server = await start({ dbFile, headless: true });
  assert.equal(server.uiUrl, undefined);
  await withClient(server, async (client) => {
    const d = await client.workflow.getHandle(workflowId).describe();
    assert.equal(d.status.name, 'RUNNING');
    assert.equal(d.typedSearchAttributes.get(pipelineName), 'infra-test');
  });

  // Crash (SIGKILL), restart: SQLite still holds the workflow.
  await server.kill();
  server = await start({ dbFile, headless: true });
  await withClient(server, async (client) => {
    const d = await client.workflow.getHandle(workflowId).describe();
    assert.equal(d.status.name, 'RUNNING');
    await client.workflow.getHandle(workflowId).terminate('infra test done');
  });
  await server.stop();

  assert.ok(readFileSync(logFile, 'utf8').length > 0, 'server output went to the log file');
});

test('dev server: a server that cannot start fails with its output', async () => {
  await assert.rejects(
    start({ dbFile: join(dir, 'bad.db'), headless: true, extraArgs: ['--no-such-flag'] }),
    (err: Error) => {
      assert.match(err.message, /exited early/);
      assert.match(err.message, /no-such-flag/);
      return true;
    },
  );
});

test('connectionOptionsFromEnv: unset address means no external cluster', () => {
  assert.equal(connectionOptionsFromEnv({}), null);
  assert.equal(connectionOptionsFromEnv({ TEMPORAL_ADDRESS: '' }), null);
  assert.equal(connectionOptionsFromEnv({ TEMPORAL_NAMESPACE: 'x', TEMPORAL_API_KEY: 'k' }), null);
});

test('connectionOptionsFromEnv: address and namespace', () => {
  assert.deepEqual(connectionOptionsFromEnv({ TEMPORAL_ADDRESS: 'temporal.example:7233' }), {
    address: 'temporal.example:7233',
    namespace: 'default',
  });
  assert.deepEqual(connectionOptionsFromEnv({ TEMPORAL_ADDRESS: 'h:7233', TEMPORAL_NAMESPACE: 'hep' }), {
    address: 'h:7233',
    namespace: 'hep',
  });
  assert.deepEqual(connectionOptionsFromEnv({ TEMPORAL_ADDRESS: 'h:7233', TEMPORAL_TLS: 'true' }), {
    address: 'h:7233',
    namespace: 'default',
    tls: {},
  });
  assert.throws(() => connectionOptionsFromEnv({ TEMPORAL_ADDRESS: 'h:7233', TEMPORAL_TLS: 'maybe' }), /TEMPORAL_TLS/);
});

test('connectionOptionsFromEnv: an API key implies TLS and is never in error messages', () => {
  const secret = 'sk-very-secret-key';
  const opts = connectionOptionsFromEnv({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'ns.acct', TEMPORAL_API_KEY: secret });
  assert.deepEqual(opts, { address: 'ns.acct.tmprl.cloud:7233', namespace: 'ns.acct', tls: {}, apiKey: secret });
  assert.throws(
    () => connectionOptionsFromEnv({ TEMPORAL_ADDRESS: 'h:7233', TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: secret }),
    (err: Error) => /TEMPORAL_API_KEY/.test(err.message) && !err.message.includes(secret),
  );
});

test('connectionOptionsFromEnv: mTLS files', () => {
  const crtPath = join(dir, 'client.pem');
  const keyPath = join(dir, 'client.key');
  writeFileSync(crtPath, 'CERT');
  writeFileSync(keyPath, 'KEY');
  const opts = connectionOptionsFromEnv({ TEMPORAL_ADDRESS: 'h:7233', TEMPORAL_TLS_CERT: crtPath, TEMPORAL_TLS_KEY: keyPath });
  assert.equal(opts?.tls?.clientCertPair?.crt.toString(), 'CERT');
  assert.equal(opts?.tls?.clientCertPair?.key.toString(), 'KEY');
  assert.equal(opts?.apiKey, undefined);

  const missing = join(dir, 'nope.pem');
  assert.throws(
    () => connectionOptionsFromEnv({ TEMPORAL_ADDRESS: 'h:7233', TEMPORAL_TLS_CERT: missing, TEMPORAL_TLS_KEY: keyPath }),
    (err: Error) => err.message.includes('TEMPORAL_TLS_CERT') && err.message.includes(missing),
  );
  assert.throws(
    () => connectionOptionsFromEnv({ TEMPORAL_ADDRESS: 'h:7233', TEMPORAL_TLS_CERT: crtPath, TEMPORAL_TLS_KEY: missing }),
    (err: Error) => err.message.includes('TEMPORAL_TLS_KEY') && err.message.includes(missing),
  );
  assert.throws(
    () => connectionOptionsFromEnv({ TEMPORAL_ADDRESS: 'h:7233', TEMPORAL_TLS_CERT: crtPath }),
    /TEMPORAL_TLS_KEY/,
  );
});
