// Global instance templates: kube-up's node templates (`<prefix>-minion-template[-...]`), listed and
// deleted by `down` with delete-nodes. The action never creates them.

import type { google } from '@google-cloud/compute/build/protos/protos.js';
import { read, write } from './calls.ts';
import { namePrefixFilter } from './instances.ts';
import { callOptions, type GceContext } from './context.ts';
import { globalPath } from './links.ts';

type InstanceTemplate = google.cloud.compute.v1.IInstanceTemplate;

function templateCall(ctx: GceContext, verb: string, name: string) {
  return { verb, what: 'instance template', resource: globalPath(ctx.project, 'instanceTemplates', name) };
}

export async function listInstanceTemplates(ctx: GceContext, namePrefix: string): Promise<{ name: string }[]> {
  const filter = namePrefixFilter(namePrefix);
  const call = { verb: 'list', what: 'instance templates', resource: `projects/${ctx.project}/global/instanceTemplates (${filter})` };
  // A failed page restarts the whole listing: a partial result would leave templates behind.
  const all = await read(ctx, call, async () => {
    const found: InstanceTemplate[] = [];
    const pages = (await ctx.clients.instanceTemplates()).listAsync(
      { project: ctx.project, filter, maxResults: ctx.pageSize },
      { ...callOptions(ctx), autoPaginate: false },
    );
    for await (const template of pages) found.push(template);
    return found;
  });
  // Applied here too, so that a server ignoring the filter cannot widen the result.
  return all
    .map((t) => t.name ?? '')
    .filter((name) => name.startsWith(namePrefix))
    .sort()
    .map((name) => ({ name }));
}

export async function deleteInstanceTemplate(ctx: GceContext, name: string): Promise<void> {
  await write(ctx, templateCall(ctx, 'delete', name), async (requestId) =>
    (await ctx.clients.instanceTemplates()).delete({ project: ctx.project, instanceTemplate: name, requestId }, callOptions(ctx)),
  );
}
