/** `12.3 MB`, `42 keys`, or `-` when unknown. */
export function formatSize(size: number | null, unit: 'bytes' | 'keys'): string {
  if (size === null) return '-';
  if (unit === 'keys') return `${size} key${size === 1 ? '' : 's'}`;
  const steps = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = size;
  let i = 0;
  while (v >= 1000 && i < steps.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${steps[i]}`;
}
