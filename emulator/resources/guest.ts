// What a VM reports about itself through the Compute API: its serial console output
// (instances.getSerialPortOutput, a 1 MiB window with GCE's start/next paging) and the guest
// attributes it wrote to the metadata server (instances.getGuestAttributes).
import type { Call } from '../context.ts';
import { checkZone, mustGet } from './common.ts';
import { invalid, notFound } from '../http/errors.ts';
import { link } from '../http/wire.ts';

/** GCE keeps the newest 1 MiB of each port's output. */
const SERIAL_WINDOW = 1024 * 1024;

function instanceOf(c: Call): { path: string; key: string } {
  const zone = c.params.zone as string;
  checkZone(zone);
  const path = `projects/${c.project}/zones/${zone}/instances/${c.params.instance}`;
  mustGet(c.ctx, path);
  return { path, key: `${zone}/${c.params.instance}` };
}

export function getSerialPortOutput(c: Call) {
  const { path, key } = instanceOf(c);
  const port = Number(c.query.get('port') ?? '1');
  if (!Number.isInteger(port) || port < 1 || port > 4)
    throw invalid(`Invalid value for field 'port': '${c.query.get('port')}'. Must be between 1 and 4.`);
  // Only port 1 (the console) carries output; ports 2-4 exist but stay empty.
  const all = port === 1 ? (c.ctx.runtime.serialOutput?.(key) ?? Buffer.alloc(0)) : Buffer.alloc(0);
  const total = all.length;
  const oldest = Math.max(0, total - SERIAL_WINDOW);
  const asked = Number(c.query.get('start') ?? '0');
  if (!Number.isFinite(asked)) throw invalid(`Invalid value for field 'start': '${c.query.get('start')}'.`);
  // A negative start means "the last |start| bytes"; a discarded position moves to the oldest kept.
  const start = Math.min(total, Math.max(oldest, asked < 0 ? total + asked : asked));
  return {
    kind: 'compute#serialPortOutput',
    contents: all.subarray(start).toString('utf8'),
    start: String(start),
    next: String(total),
    selfLink: `${link(path)}/serialPort`,
  };
}

export function getGuestAttributes(c: Call) {
  const { path, key } = instanceOf(c);
  const attrs = c.ctx.runtime.guestAttributes?.(key) ?? new Map<string, string>();
  const variableKey = c.query.get('variableKey') ?? '';
  const queryPath = c.query.get('queryPath') ?? '';
  const selfLink = `${link(path)}/guestAttributes`;
  if (variableKey) {
    const value = attrs.get(variableKey);
    if (value === undefined) throw notFound(`${path}/guestAttributes/${variableKey}`);
    return { kind: 'compute#guestAttributes', variableKey, variableValue: value, selfLink };
  }
  // queryPath `ns/` lists a namespace, `ns/key` one key, `` everything.
  const items = [...attrs.entries()]
    .filter(([k]) => !queryPath || (queryPath.endsWith('/') ? k.startsWith(queryPath) : k === queryPath))
    .map(([k, value]) => ({ namespace: k.slice(0, k.indexOf('/')), key: k.slice(k.indexOf('/') + 1), value }));
  if (queryPath && items.length === 0) throw notFound(`${path}/guestAttributes/${queryPath}`);
  return { kind: 'compute#guestAttributes', queryPath, queryValue: { items }, selfLink };
}
