// images.get / getFromFamily / list for the public image projects in the catalogue.
import type { Call } from '../context.ts';
import type { Resource } from '../store/store.ts';
import { IMAGES, type ImageInfo } from '../catalogue.ts';
import { notFound } from '../http/errors.ts';
import { link } from '../http/wire.ts';
import { listResponse } from './common.ts';

export function imageResource(img: ImageInfo): Resource {
  return {
    kind: 'compute#image',
    id: img.id,
    creationTimestamp: '2025-06-10T08:00:00.000-07:00',
    name: img.name,
    description: img.description,
    family: img.family,
    sourceType: 'RAW',
    status: 'READY',
    archiveSizeBytes: '1200000000',
    diskSizeGb: img.diskSizeGb,
    architecture: 'X86_64',
    licenses: [link(`projects/${img.project}/global/licenses/${img.family}`)],
    labelFingerprint: '42WmSpB8rSM=',
    selfLink: link(`projects/${img.project}/global/images/${img.name}`),
  };
}

/** The image a `sourceImage` path names (by name or `family/<f>`), or undefined. */
export function findImage(path: string): ImageInfo | undefined {
  // gcloud names a family through the image family view of any zone: projects/P/zones/-/imageFamilyViews/F.
  const view = /^projects\/([^/]+)\/zones\/[^/]+\/imageFamilyViews\/([^/]+)$/.exec(path);
  if (view) return IMAGES.find((i) => i.project === view[1] && i.family === view[2]);
  const m = /^projects\/([^/]+)\/global\/images\/(?:family\/([^/]+)|([^/]+))$/.exec(path);
  if (!m) return undefined;
  return IMAGES.find((i) => i.project === m[1] && (m[2] ? i.family === m[2] : i.name === m[3]));
}

export function getImage(c: Call) {
  const img = IMAGES.find((i) => i.project === c.project && i.name === c.params.image);
  if (!img) throw notFound(`projects/${c.project}/global/images/${c.params.image}`);
  return imageResource(img);
}

export function getImageFromFamily(c: Call) {
  const img = IMAGES.find((i) => i.project === c.project && i.family === c.params.family);
  if (!img) throw notFound(`projects/${c.project}/global/images/family/${c.params.family}`);
  return imageResource(img);
}

export const listImages = (c: Call) =>
  listResponse(c, `projects/${c.project}/global/images`, 'images', IMAGES.filter((i) => i.project === c.project).map(imageResource));
