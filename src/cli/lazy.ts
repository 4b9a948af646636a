/**
 * Wires a command's action to a lazily imported module, so a command's code (and its
 * dependencies) load only when it runs: `cilo --version` and `--help` stay cheap.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- commander passes positional args then options
export function lazy<A extends any[]>(load: () => Promise<{ default: (...args: A) => Promise<number | void> }>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const mod = await load();
    const code = await mod.default(...args);
    if (typeof code === 'number') process.exitCode = code;
  };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
