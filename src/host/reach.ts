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

/**
 * A TLS handshake with 127.0.0.1:`port` for `servername` (SNI), the certificate not checked,
 * closed at once: makes the loopback router issue that name's certificate now, so the user's
 * first request does not wait for it (issue #25). The error's code or message when it fails.
 */
export async function tlsHandshake(port: number, servername: string, timeoutMs: number): Promise<ConnectOutcome> {
  const { connect: tlsConnect } = await import('node:tls');
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false });
    const done = (outcome: ConnectOutcome): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done({ ok: false, code: 'ETIMEDOUT' }), timeoutMs);
    socket.once('secureConnect', () => done({ ok: true }));
    socket.once('error', (e: NodeJS.ErrnoException) => done({ ok: false, code: e.code ?? e.message }));
  });
}
