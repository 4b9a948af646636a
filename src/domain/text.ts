/** The last `n` non-empty lines of a text, for error messages. */
export function tail(text: string, n = 10): string {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-n)
    .join('\n');
}
