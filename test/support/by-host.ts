/**
 * Requests to the loopback router as a browser makes them: to 127.0.0.1 with the name in the Host
 * header (and, over HTTPS, in SNI), on a connection of their own unless an agent is given.
 */
import { type Agent, request } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface Answer {
  status: number;
  body: string;
}

/** GET / on 127.0.0.1:port with this Host header. */
export function getByHost(port: number, host: string, timeoutMs = 5000, agent: Agent | false = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { Host: host }, agent, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${host} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** GET / over HTTPS on 127.0.0.1:port, SNI and Host `host`, the server's certificate verified against `ca` only (the system's CAs without it). */
export function getTlsByHost(port: number, host: string, ca: string | undefined, timeoutMs = 5000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/', servername: host, headers: { Host: host }, ...(ca === undefined ? {} : { ca }), agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET https://${host} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
