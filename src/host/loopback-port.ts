/**
 * Whether this user can listen on a TCP port of 127.0.0.1 right now (`cilo init` asks it of the
 * router's ports): a listen that is closed at once. EADDRINUSE: another program holds it;
 * EACCES: a privileged port (below 1024, or ip_unprivileged_port_start) for this user.
 */
import { createServer } from 'node:net';
import type { LoopbackPortState } from '../domain/routing-choice.js';

export function loopbackPortState(port: number): Promise<LoopbackPortState> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EACCES' || e.code === 'EPERM' ? 'denied' : 'taken'));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve('free')));
  });
}
