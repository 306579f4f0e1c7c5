/** Free TCP ports for local test services. */
import { createServer } from 'node:net';

/**
 * A port that was free on 127.0.0.1 a moment ago (the OS picks it). Another
 * process may still take it before the caller binds it; callers that start a
 * server retry on "address in use".
 */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolvePort(port) : reject(new Error('could not read the bound port'))));
    });
  });
}
