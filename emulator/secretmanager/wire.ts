// Secret Manager's JSON shapes (proto3 JSON of google.cloud.secretmanager.v1): what a stored secret
// and version look like on the wire. A payload appears only in AccessSecretVersionResponse. Like
// Google, names carry the project's number (`projects/123.../secrets/x`) whichever form was asked.
import { projectNumber } from '../project-number.ts';
import type { StoredSecret, StoredVersion } from './store.ts';

export const secretName = (project: string, id: string): string => `projects/${projectNumber(project)}/secrets/${id}`;
export const versionName = (project: string, id: string, version: number | string): string =>
  `${secretName(project, id)}/versions/${version}`;

export function secretJson(s: StoredSecret): object {
  return {
    name: secretName(s.project, s.id),
    replication: s.replication,
    createTime: s.createTime,
    ...(Object.keys(s.labels).length ? { labels: s.labels } : {}),
    ...(Object.keys(s.annotations).length ? { annotations: s.annotations } : {}),
    etag: s.etag,
  };
}

export function versionJson(s: StoredSecret, v: StoredVersion): object {
  return {
    name: versionName(s.project, s.id, v.number),
    createTime: v.createTime,
    state: v.state,
    replicationStatus: 'userManaged' in s.replication ? { userManaged: s.replication.userManaged } : { automatic: {} },
    etag: v.etag,
    clientSpecifiedPayloadChecksum: v.clientSpecifiedPayloadChecksum,
  };
}

export function accessJson(s: StoredSecret, v: StoredVersion): object {
  return { name: versionName(s.project, s.id, v.number), payload: { data: v.data, dataCrc32c: v.crc32c } };
}
