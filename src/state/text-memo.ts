/**
 * Remembers what the last text parsed to, so a process that reads the same state file twice
 * (the reap hook before every command, then the command itself) validates it once.
 *
 * Keyed by the exact text, so a changed file is never answered from memory, whoever changed
 * it. Callers may change what they get (transactions do): every caller gets its own deep copy,
 * made from a JSON snapshot taken when the value was remembered. Only for JSON data.
 */
export class TextMemo<T> {
  private last: { text: string; json: string } | undefined;

  /** A fresh copy of the value remembered for exactly this text, or undefined. */
  get(text: string): T | undefined {
    if (this.last === undefined || this.last.text !== text) return undefined;
    return JSON.parse(this.last.json) as T;
  }

  /** Remembers `value` as what `text` parses to. Call it before anyone can change `value`. */
  set(text: string, value: T): void {
    this.last = { text, json: JSON.stringify(value) };
  }
}
