// Global instance templates: kube-up's node templates (`<prefix>-minion-template[-...]`), listed and
// deleted by `down` with delete-nodes. The action never creates them.

import { read, write } from './calls.ts';
import type { GceContext } from './context.ts';
import { namePrefixFilter } from './instances.ts';
import { globalPath } from './links.ts';
import { listAll } from './paging.ts';
import type { InstanceTemplate } from './resources.ts';

export async function listInstanceTemplates(ctx: GceContext, namePrefix: string): Promise<{ name: string }[]> {
  const filter = namePrefixFilter(namePrefix);
  const path = `projects/${ctx.project}/global/instanceTemplates`;
  // A partial result would leave templates behind: paging.ts lists all or fails.
  const all = await read(ctx, { verb: 'list', what: 'instance templates', resource: `${path} (${filter})` }, () =>
    listAll<InstanceTemplate>(ctx, path, { filter }),
  );
  // Applied here too, so that a server ignoring the filter cannot widen the result.
  return all
    .map((t) => t.name ?? '')
    .filter((name) => name.startsWith(namePrefix))
    .sort()
    .map((name) => ({ name }));
}

export async function deleteInstanceTemplate(ctx: GceContext, name: string): Promise<void> {
  const path = globalPath(ctx.project, 'instanceTemplates', name);
  await write(ctx, { verb: 'delete', what: 'instance template', resource: path }, { method: 'DELETE', path });
}
