import { connect } from 'node:net';

/** How a connect ended: connected, or the error's code (ECONNREFUSED, EHOSTUNREACH, ETIMEDOUT...). */
export type ConnectOutcome = { ok: true } | { ok: false; code: string };

/**
 * A TCP connect from this process to `ip:port`, closed at once: whether this machine reaches that
 * address (issue #25's `auto` probe). A timeout is reported as ETIMEDOUT.
 */
export function tcpConnect(ip: string, port: number, timeoutMs: number): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: ip, port });
    const done = (outcome: ConnectOutcome): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done({ ok: false, code: 'ETIMEDOUT' }), timeoutMs);
    socket.once('connect', () => done({ ok: true }));
    socket.once('error', (e: NodeJS.ErrnoException) => done({ ok: false, code: e.code ?? e.message }));
  });
}
