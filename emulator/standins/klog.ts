// Log lines in klog's text format, which is what the real components write to stderr:
//   I1202 11:30:00.123456   12345 leaderelection.go:257] attempting to acquire leader lease kube-system/kube-scheduler...
// Structured calls (klog.InfoS) render as `"message" key="value" key2=3`.
export type Severity = 'I' | 'W' | 'E';

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

export function klogLine(
  severity: Severity,
  source: string,
  message: string,
  epochMs = performance.timeOrigin + performance.now(),
): string {
  const now = new Date(Math.floor(epochMs));
  const micros = pad(Math.floor(epochMs * 1000) % 1_000_000, 6);
  const header =
    `${severity}${pad(now.getMonth() + 1, 2)}${pad(now.getDate(), 2)} ` +
    `${pad(now.getHours(), 2)}:${pad(now.getMinutes(), 2)}:${pad(now.getSeconds(), 2)}.${micros} ` +
    `${String(process.pid).padStart(7, ' ')} ${source}] `;
  return header + message;
}

/** `"msg" k="v" n=1`, as klog renders InfoS/ErrorS key/value pairs. */
export function structured(message: string, kv: Record<string, string | number | boolean> = {}): string {
  const pairs = Object.entries(kv).map(([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
  return [JSON.stringify(message), ...pairs].join(' ');
}

export const klog = {
  info(source: string, message: string): void {
    process.stderr.write(klogLine('I', source, message) + '\n');
  },
  warning(source: string, message: string): void {
    process.stderr.write(klogLine('W', source, message) + '\n');
  },
  error(source: string, message: string): void {
    process.stderr.write(klogLine('E', source, message) + '\n');
  },
};
