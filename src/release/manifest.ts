// The release manifest: which kubernetes-server and etcd archives a master downloads, and the digest
// the VM checks before it unpacks them. Users write it as JSON (input `release-manifest`); a VM reads
// it from the metadata key `ha-masters-release`, one line per artifact (docs/vm-contract.md).
// Pure: no I/O. Every problem is reported at once, each with its fix.

import { errorMessage } from '../errors.ts';

export const ARTIFACT_NAMES = ['kubernetes-server', 'etcd'] as const;
export type ArtifactName = (typeof ARTIFACT_NAMES)[number];

export type DigestAlgorithm = 'sha256' | 'sha512';

/** Hex digits per digest: any other length is a truncated copy or the other algorithm's digest. */
export const DIGEST_HEX_LENGTH: Readonly<Record<DigestAlgorithm, number>> = { sha256: 64, sha512: 128 };
const ALGORITHMS = Object.keys(DIGEST_HEX_LENGTH) as DigestAlgorithm[];

export interface Artifact {
  url: string;
  algorithm: DigestAlgorithm;
  /** Lower-case hex. */
  digest: string;
}

export interface ReleaseManifest {
  kubernetesVersion: string;
  etcdVersion: string;
  artifacts: { 'kubernetes-server': Artifact; etcd: Artifact };
}

export const METADATA_KEY = 'ha-masters-release';

/** One thing wrong with a manifest. `where` names the key, artifact or line. */
export interface ManifestProblem {
  where: string;
  problem: string;
  fix: string;
}

export class ReleaseManifestError extends Error {
  readonly source: string;
  readonly problems: ManifestProblem[];

  constructor(source: string, problems: ManifestProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    const lines = problems.map((p) => `  - ${p.where}: ${p.problem} Fix: ${p.fix}`);
    super([`the release manifest ${source} has ${count}:`, ...lines].join('\n'));
    this.name = 'ReleaseManifestError';
    this.source = source;
    this.problems = problems;
  }
}

// ---- the checks both forms share ----

const VERSION_FIELD = { 'kubernetes-server': 'kubernetesVersion', etcd: 'etcdVersion' } as const;
const VERSION_EXAMPLE = { 'kubernetes-server': 'v1.34.2', etcd: 'v3.5.24' } as const;
const DIGEST_SOURCE = {
  'kubernetes-server': 'the "Server Binaries" table of the Kubernetes CHANGELOG (sha512)',
  etcd: "the release's SHA256SUMS file",
} as const;

/** Upstream's tag form: a leading v, semver core, optional pre-release (v1.34.2, v3.6.0-rc.3). */
const RELEASE_VERSION = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

export function isReleaseVersion(value: string): boolean {
  return RELEASE_VERSION.test(value);
}

type Found = Omit<ManifestProblem, 'where'>;

function versionProblem(artifact: ArtifactName, value: string): Found | undefined {
  if (isReleaseVersion(value)) return undefined;
  const example = VERSION_EXAMPLE[artifact];
  const fix = isReleaseVersion(`v${value}`)
    ? `add the leading v: "v${value}".`
    : `write the release tag exactly as upstream does, e.g. "${example}".`;
  return {
    problem: `must look like ${example} (a leading v, major.minor.patch, optionally a pre-release such as -rc.1), got ${JSON.stringify(value)}.`,
    fix,
  };
}

function urlProblem(value: string): Found | undefined {
  const fix = 'give the full https:// (or http://) address of the archive.';
  // The metadata form separates fields with spaces.
  if (/\s/.test(value))
    return { problem: `must not contain whitespace, got ${JSON.stringify(value)}.`, fix: 'percent-encode spaces (%20).' };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { problem: `must be an http(s) URL, got ${JSON.stringify(value)}.`, fix };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return { problem: `must be an http(s) URL, got the scheme "${url.protocol}".`, fix };
  if (!url.hostname) return { problem: `must name a host, got ${JSON.stringify(value)}.`, fix };
  return undefined;
}

function digestProblem(artifact: ArtifactName, algorithm: DigestAlgorithm, digest: string): Found | undefined {
  const want = DIGEST_HEX_LENGTH[algorithm];
  const copyAgain = `copy the ${algorithm} digest of the archive again, e.g. from ${DIGEST_SOURCE[artifact]}.`;
  if (digest.length !== want) {
    const other = ALGORITHMS.find((a) => a !== algorithm && DIGEST_HEX_LENGTH[a] === digest.length);
    const fix = other ? `that is the length of a ${other} digest: call it ${other}, or ${copyAgain}` : copyAgain;
    return { problem: `${algorithm} must be ${want} lower-case hex digits, got ${digest.length} characters.`, fix };
  }
  if (/^[0-9a-fA-F]+$/.test(digest) && /[A-F]/.test(digest)) {
    return { problem: `${algorithm} must be lower-case hex, got upper-case letters.`, fix: 'write the same digest in lower case.' };
  }
  const bad = /[^0-9a-f]/.exec(digest);
  if (bad)
    return {
      problem: `${algorithm} must be ${want} lower-case hex digits, got ${JSON.stringify(bad[0])} at position ${bad.index + 1}.`,
      fix: copyAgain,
    };
  return undefined;
}

function prefixed(prefix: string, found: Found | undefined): Found | undefined {
  return found && { problem: `${prefix} ${found.problem}`, fix: found.fix };
}

function isAlgorithm(value: string): value is DigestAlgorithm {
  return (ALGORITHMS as string[]).includes(value);
}

function isArtifactName(value: string): value is ArtifactName {
  return (ARTIFACT_NAMES as readonly string[]).includes(value);
}

// ---- the user's JSON ----

const TOP_KEYS = ['kubernetesVersion', 'etcdVersion', 'artifacts'];
const ARTIFACT_KEYS = ['url', ...ALGORITHMS];
const JSON_EXAMPLE =
  '{"kubernetesVersion":"v1.34.2","etcdVersion":"v3.5.24","artifacts":{"kubernetes-server":{"url":"https://…","sha512":"<hex>"},"etcd":{"url":"https://…","sha256":"<hex>"}}}';

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** The user-facing JSON, validated. `source` (path or URL) names it in the error. */
export function parseReleaseManifest(text: string, source: string): ReleaseManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new ReleaseManifestError(source, [
      { where: 'JSON', problem: `does not parse (${errorMessage(err)}).`, fix: `serve a JSON object like ${JSON_EXAMPLE}.` },
    ]);
  }
  if (!isObject(doc)) {
    throw new ReleaseManifestError(source, [
      { where: 'JSON', problem: `must be an object, got ${kindOf(doc)}.`, fix: `serve a JSON object like ${JSON_EXAMPLE}.` },
    ]);
  }

  const problems: ManifestProblem[] = [];
  const add = (where: string, found: Found | undefined): void => {
    if (found) problems.push({ where, ...found });
  };
  unknownKeys(doc, TOP_KEYS, 'manifest', problems);

  const versionOf = (artifact: ArtifactName): string => {
    const field = VERSION_FIELD[artifact];
    const value = doc[field];
    if (typeof value !== 'string') {
      const got = value === undefined ? 'it is missing' : `got ${kindOf(value)}`;
      add(field, {
        problem: `must be a string, ${got}.`,
        fix: `add "${field}": "${VERSION_EXAMPLE[artifact]}" (the release the archive holds).`,
      });
      return '';
    }
    add(field, versionProblem(artifact, value));
    return value;
  };
  const kubernetesVersion = versionOf('kubernetes-server');
  const etcdVersion = versionOf('etcd');

  const artifacts = doc.artifacts;
  const parsed: Partial<Record<ArtifactName, Artifact>> = {};
  if (!isObject(artifacts)) {
    const got = artifacts === undefined ? 'it is missing' : `got ${kindOf(artifacts)}`;
    add('artifacts', { problem: `must be an object with "kubernetes-server" and "etcd", ${got}.`, fix: `add it, as in ${JSON_EXAMPLE}.` });
  } else {
    unknownKeys(artifacts, ARTIFACT_NAMES, 'artifacts', problems);
    for (const name of ARTIFACT_NAMES) parsed[name] = artifactOf(name, artifacts[name], problems);
  }

  if (problems.length) throw new ReleaseManifestError(source, problems);
  return { kubernetesVersion, etcdVersion, artifacts: parsed as ReleaseManifest['artifacts'] };
}

function unknownKeys(obj: JsonObject, known: readonly string[], where: string, problems: ManifestProblem[]): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    problems.push({
      where,
      problem: `has an unknown key ${JSON.stringify(key)}.`,
      fix: `check its spelling; the keys are ${known.join(', ')}.`,
    });
  }
}

function artifactOf(name: ArtifactName, value: unknown, problems: ManifestProblem[]): Artifact | undefined {
  const add = (found: Found | undefined): void => {
    if (found) problems.push({ where: name, ...found });
  };
  if (!isObject(value)) {
    const got = value === undefined ? 'it is missing' : `got ${kindOf(value)}`;
    add({
      problem: `must be an object with "url" and "sha256" or "sha512", ${got}.`,
      fix: `add "artifacts": {"${name}": {"url": "https://…", "sha256": "<hex>"}}.`,
    });
    return undefined;
  }
  unknownKeys(value, ARTIFACT_KEYS, name, problems);

  const url = value.url;
  if (typeof url !== 'string')
    add({
      problem: `url must be a string, ${url === undefined ? 'it is missing' : `got ${kindOf(url)}`}.`,
      fix: 'add "url": "https://…" (the archive to download).',
    });
  else add(prefixed('url', urlProblem(url)));

  const given = ALGORITHMS.filter((a) => a in value);
  if (given.length !== 1) {
    const problem = given.length ? `has both ${given.join(' and ')}.` : 'has no digest.';
    add({ problem, fix: `give exactly one of "sha256" or "sha512": the archive's digest in lower-case hex.` });
    return undefined;
  }
  const algorithm = given[0]!;
  const digest = value[algorithm];
  if (typeof digest !== 'string') {
    add({ problem: `${algorithm} must be a string, got ${kindOf(digest)}.`, fix: `write the digest as a quoted string of hex digits.` });
    return undefined;
  }
  add(digestProblem(name, algorithm, digest));
  return typeof url === 'string' ? { url, algorithm, digest } : undefined;
}

// ---- the metadata form (`ha-masters-release`) ----

const METADATA_FIELDS = '<artifact> <version> <algorithm> <hex digest> <url>';

/** The metadata form of docs/vm-contract.md: a comment, then kubernetes-server and etcd. */
export function toMetadata(m: ReleaseManifest): string {
  const lines = ARTIFACT_NAMES.map((name) => {
    const a = m.artifacts[name];
    return [name, m[VERSION_FIELD[name]], a.algorithm, a.digest, a.url].join(' ');
  });
  return [`# ${METADATA_FIELDS}`, ...lines].join('\n') + '\n';
}

/** The inverse of toMetadata, as strict as parseReleaseManifest (the text may come from a VM). */
export function fromMetadata(text: string, source = `in metadata ${METADATA_KEY}`): ReleaseManifest {
  const problems: ManifestProblem[] = [];
  const seen = new Set<ArtifactName>();
  const versions: Partial<Record<ArtifactName, string>> = {};
  const artifacts: Partial<Record<ArtifactName, Artifact>> = {};

  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `line ${i + 1}`;
    const fields = line.split(/\s+/);
    // A malformed line still counts as its artifact's line, so it is not also reported missing.
    if (isArtifactName(fields[0]!) && fields.length !== 5) seen.add(fields[0]);
    if (fields.length !== 5) {
      problems.push({
        where,
        problem: `must have 5 fields "${METADATA_FIELDS}", got ${fields.length}.`,
        fix: 'write the line as toMetadata does (one space between fields).',
      });
      return;
    }
    const [name, version, algorithm, digest, url] = fields as [string, string, string, string, string];
    if (!isArtifactName(name)) {
      problems.push({ where, problem: `names the unknown artifact ${JSON.stringify(name)}.`, fix: `use ${ARTIFACT_NAMES.join(' or ')}.` });
      return;
    }
    if (seen.has(name)) {
      problems.push({ where, problem: `repeats the artifact ${name}.`, fix: 'keep one line per artifact.' });
      return;
    }
    seen.add(name);
    const found = [
      prefixed('the version', versionProblem(name, version)),
      prefixed('the url', urlProblem(url)),
      isAlgorithm(algorithm)
        ? digestProblem(name, algorithm, digest)
        : { problem: `the algorithm must be sha256 or sha512, got ${JSON.stringify(algorithm)}.`, fix: 'write sha256 or sha512.' },
    ].filter((f) => f !== undefined);
    for (const f of found) problems.push({ where: `${where} (${name})`, ...f });
    if (found.length === 0) {
      versions[name] = version;
      artifacts[name] = { url, algorithm: algorithm as DigestAlgorithm, digest };
    }
  });

  for (const name of ARTIFACT_NAMES) {
    if (!seen.has(name))
      problems.push({ where: name, problem: 'has no line.', fix: `add a line "${name} <version> <algorithm> <hex digest> <url>".` });
  }
  if (problems.length) throw new ReleaseManifestError(source, problems);
  return {
    kubernetesVersion: versions['kubernetes-server']!,
    etcdVersion: versions.etcd!,
    artifacts: artifacts as ReleaseManifest['artifacts'],
  };
}
