// Google's batch endpoint (`/batch/compute/v1`, multipart/mixed), which gcloud uses when one
// command makes several calls. Each part is an HTTP request served like a plain REST call.
import type { ServerDeps } from './server.ts';
import { serveRest } from './server.ts';

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  204: 'No Content',
  400: 'Bad Request',
  404: 'Not Found',
  409: 'Conflict',
  412: 'Precondition Failed',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

interface Part {
  contentId?: string;
  method: string;
  target: string;
  body: string;
}

function parseParts(contentType: string, raw: string): Part[] {
  const m = /boundary="?([^";]+)"?/i.exec(contentType);
  if (!m) return [];
  const boundary = `--${m[1]}`;
  const parts: Part[] = [];
  for (const chunk of raw.split(boundary).slice(1)) {
    if (chunk.startsWith('--')) break;
    const text = chunk.replace(/^\r?\n/, '');
    const split = text.search(/\r?\n\r?\n/);
    const outerHeaders = text.slice(0, split);
    const inner = text.slice(split).replace(/^\r?\n\r?\n/, '');
    const contentId = /content-id:\s*(\S+)/i.exec(outerHeaders)?.[1];
    const innerSplit = inner.search(/\r?\n\r?\n/);
    const head = innerSplit >= 0 ? inner.slice(0, innerSplit) : inner;
    const body =
      innerSplit >= 0
        ? inner
            .slice(innerSplit)
            .replace(/^\r?\n\r?\n/, '')
            .replace(/\r?\n$/, '')
        : '';
    const requestLine = head.split(/\r?\n/)[0] ?? '';
    const [method, target] = requestLine.split(' ');
    if (method && target) parts.push({ ...(contentId ? { contentId } : {}), method: method.toUpperCase(), target, body });
  }
  return parts;
}

export async function handleBatch(
  deps: ServerDeps,
  contentType: string,
  raw: string,
): Promise<{ status: number; contentType: string; body: string }> {
  const parts = parseParts(contentType, raw);
  const boundary = `batch_${Math.random().toString(36).slice(2)}`;
  let out = '';
  for (const part of parts) {
    const url = new URL(part.target, 'http://emulator.local');
    const res = await serveRest(deps, part.method, url, part.body);
    const body = res.body === undefined ? '' : JSON.stringify(res.body);
    const contentId = part.contentId ? part.contentId.replace(/^<(.*)>$/, 'response-$1') : undefined;
    out += `--${boundary}\r\nContent-Type: application/http\r\n${contentId ? `Content-ID: <${contentId}>\r\n` : ''}\r\n`;
    out += `HTTP/1.1 ${res.status} ${STATUS_TEXT[res.status] ?? 'Status'}\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}\r\n`;
  }
  out += `--${boundary}--\r\n`;
  return { status: 200, contentType: `multipart/mixed; boundary=${boundary}`, body: out };
}
