/** Human-readable sizes and times the way the docker CLI prints them. */

/** docker's units.HumanSize: decimal units, 3 significant digits ("1.98MB", "0B"). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let v = bytes;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

/** docker's "2 minutes ago" style. */
export function since(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'N/A';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'N/A';
  const s = Math.max(0, Math.round((now - t) / 1000));
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'} ago`;
  if (s < 1) return 'Less than a second ago';
  if (s < 60) return plural(s, 'second');
  if (s < 3600) return plural(Math.round(s / 60), 'minute');
  if (s < 48 * 3600) return plural(Math.round(s / 3600), 'hour');
  if (s < 14 * 86400) return plural(Math.round(s / 86400), 'day');
  if (s < 60 * 86400) return plural(Math.round(s / (7 * 86400)), 'week');
  if (s < 730 * 86400) return plural(Math.round(s / (30 * 86400)), 'month');
  return plural(Math.round(s / (365 * 86400)), 'year');
}

/** Left-aligned columns separated by three spaces (docker's tabwriter look). */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n') + '\n';
}
