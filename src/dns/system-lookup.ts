import { lookup } from 'node:dns/promises';

/**
 * Whether the machine's own resolver (getaddrinfo, as browsers and test tools use it) answers
 * `name`: true once `cilo dns setup` routed the suffix to cilo's server.
 */
export async function systemResolves(name: string, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([lookup(name, { family: 4 }).then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
