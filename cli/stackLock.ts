/**
 * One embedded stack per data folder, enforced by the kernel: the process
 * that owns a folder's stack listens on an abstract Unix socket named after
 * the folder. Only a live process can hold it (the kernel drops it when the
 * process dies, however it dies), so two servers can never share a
 * temporal.db, and a stale lock cannot exist. Other commands find the stack by
 * asking its owner over that socket for the stack's address.
 * Abstract sockets are a Linux feature; elsewhere a socket file in the data
 * folder stands in (removed when its owner exits normally).
 */
import { createHash } from 'node:crypto';
import { realpathSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { z } from 'zod';

export const StackInfo = z.object({
  address: z.string(),
  namespace: z.string(),
  uiUrl: z.string().optional(),
  ownerPid: z.number(),
});
export type StackInfo = z.infer<typeof StackInfo>;

/** The socket name of a data folder. */
export function lockAddress(dataDir: string): string {
  let dir = resolve(dataDir);
  try {
    dir = realpathSync(dir);
  } catch {
    // not created yet: its resolved path names it
  }
  if (process.platform !== 'linux') return join(dir, 'stack.sock');
  return `\0topoflow-stack-${createHash('sha256').update(dir).digest('hex').slice(0, 40)}`;
}

export interface DataFolderLock {
  /** From now on, askers get this answer. */
  publish(info: StackInfo): void;
  release(): Promise<void>;
}

/** The folder's lock, or null when a live process holds it. */
export async function acquireDataFolderLock(dataDir: string): Promise<DataFolderLock | null> {
  const address = lockAddress(dataDir);
  let info: StackInfo | null = null;
  const server: Server = createServer((socket) => {
    socket.end(JSON.stringify(info ?? { starting: true }));
  });
  let listening = await listen(server, address);
  // A socket file (not Linux) outlives a killed owner: nobody answering on it means it is stale.
  if (!listening && !address.startsWith('\0') && (await askStackOwner(dataDir)) === null) {
    rmSync(address, { force: true });
    listening = await listen(server, address);
  }
  if (!listening) return null;
  server.unref(); // the lock alone must not keep a command's process alive
  return {
    publish(next) {
      info = next;
    },
    release: () =>
      new Promise<void>((done) => {
        server.close(() => {
          if (!address.startsWith('\0')) rmSync(address, { force: true });
          done();
        });
      }),
  };
}

/** True when listening; false when the address is taken. */
function listen(server: Server, address: string): Promise<boolean> {
  return new Promise((done, fail) => {
    const onError = (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? done(false) : fail(err));
    server.once('error', onError);
    server.listen(address, () => {
      server.off('error', onError);
      done(true);
    });
  });
}

/** What the folder's owner says: its stack, 'starting' while it starts one, or null when nobody holds the folder. */
export async function askStackOwner(dataDir: string, timeoutMs = 2_000): Promise<StackInfo | 'starting' | null> {
  const address = lockAddress(dataDir);
  return new Promise((done) => {
    const socket = connect(address);
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      done(null);
    }, timeoutMs);
    socket.on('data', (d: Buffer) => (text += d.toString()));
    socket.on('error', () => {
      clearTimeout(timer);
      done(null);
    });
    socket.on('end', () => {
      clearTimeout(timer);
      try {
        const parsed = StackInfo.safeParse(JSON.parse(text));
        done(parsed.success ? parsed.data : 'starting');
      } catch {
        done(null);
      }
    });
  });
}
