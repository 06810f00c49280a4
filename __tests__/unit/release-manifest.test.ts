import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadReleaseManifest } from '../../src/release/load.ts';
import {
  DIGEST_HEX_LENGTH,
  ReleaseManifestError,
  fromMetadata,
  isReleaseVersion,
  parseReleaseManifest,
  toMetadata,
  type ReleaseManifest,
} from '../../src/release/manifest.ts';
import { DEFAULT_ETCD_VERSION, DEFAULT_KUBERNETES_VERSION, PINNED_ETCD, PINNED_KUBERNETES, manifestFor } from '../../src/release/pinned.ts';

const SHA512 = 'ab'.repeat(64);
const SHA256 = 'cd'.repeat(32);

function userJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kubernetesVersion: 'v1.34.2',
    etcdVersion: 'v3.5.24',
    artifacts: {
      'kubernetes-server': { url: 'https://mirror.example/k8s/v1.34.2/kubernetes-server-linux-amd64.tar.gz', sha512: SHA512 },
      etcd: { url: 'http://mirror.example/etcd-v3.5.24-linux-amd64.tar.gz', sha256: SHA256 },
    },
    ...overrides,
  };
}

const parse = (doc: unknown) =>
  parseReleaseManifest(typeof doc === 'string' ? doc : JSON.stringify(doc), 'https://mirror.example/release.json');

/** The error of parsing `doc`, which must be a ReleaseManifestError. */
function errorOf(run: () => unknown): ReleaseManifestError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(ReleaseManifestError);
    return e as ReleaseManifestError;
  }
  throw new Error('expected a ReleaseManifestError');
}

describe('pinned releases', () => {
  const tables = [
    ['kubernetes', PINNED_KUBERNETES, (v: string) => `https://dl.k8s.io/${v}/kubernetes-server-linux-amd64.tar.gz`],
    ['etcd', PINNED_ETCD, (v: string) => `https://github.com/etcd-io/etcd/releases/download/${v}/etcd-${v}-linux-amd64.tar.gz`],
  ] as const;

  it.each(tables)('every %s entry has a release version, its https URL and a digest of its algorithm', (_, table, urlOf) => {
    expect(Object.keys(table).length).toBeGreaterThanOrEqual(2);
    for (const [version, artifact] of Object.entries(table)) {
      expect(isReleaseVersion(version)).toBe(true);
      expect(artifact.url).toBe(urlOf(version));
      expect(new URL(artifact.url).protocol).toBe('https:');
      expect(artifact.digest).toMatch(new RegExp(`^[0-9a-f]{${DIGEST_HEX_LENGTH[artifact.algorithm]}}$`));
    }
  });

  it('holds the defaults, and at least two minors of each', () => {
    expect(PINNED_KUBERNETES[DEFAULT_KUBERNETES_VERSION]).toBeDefined();
    expect(PINNED_ETCD[DEFAULT_ETCD_VERSION]).toBeDefined();
    const minors = (table: object) => new Set(Object.keys(table).map((v) => v.split('.').slice(0, 2).join('.')));
    expect(minors(PINNED_KUBERNETES).size).toBeGreaterThanOrEqual(2);
    expect(minors(PINNED_ETCD).size).toBeGreaterThanOrEqual(2);
  });

  it('builds a manifest of the defaults that survives the metadata form and the JSON form', () => {
    const m = manifestFor(DEFAULT_KUBERNETES_VERSION, DEFAULT_ETCD_VERSION);
    expect(m.artifacts['kubernetes-server']).toEqual(PINNED_KUBERNETES[DEFAULT_KUBERNETES_VERSION]);
    expect(fromMetadata(toMetadata(m))).toEqual(m);
    const json = {
      kubernetesVersion: m.kubernetesVersion,
      etcdVersion: m.etcdVersion,
      artifacts: {
        'kubernetes-server': { url: m.artifacts['kubernetes-server'].url, sha512: m.artifacts['kubernetes-server'].digest },
        etcd: { url: m.artifacts.etcd.url, sha256: m.artifacts.etcd.digest },
      },
    };
    expect(parse(json)).toEqual(m);
  });

  it('names the pinned versions when asked for one it does not have, both at once', () => {
    expect(() => manifestFor('v1.99.0', 'v9.9.9')).toThrow(
      /Kubernetes "v1\.99\.0" is not pinned.*v1\.35\.4.*\n.*etcd "v9\.9\.9" is not pinned.*v3\.6\.14.*\nFix: .*release-manifest/,
    );
  });
});

describe('parseReleaseManifest', () => {
  it('reads the user format', () => {
    expect(parse(userJson())).toEqual({
      kubernetesVersion: 'v1.34.2',
      etcdVersion: 'v3.5.24',
      artifacts: {
        'kubernetes-server': {
          url: 'https://mirror.example/k8s/v1.34.2/kubernetes-server-linux-amd64.tar.gz',
          algorithm: 'sha512',
          digest: SHA512,
        },
        etcd: { url: 'http://mirror.example/etcd-v3.5.24-linux-amd64.tar.gz', algorithm: 'sha256', digest: SHA256 },
      },
    });
  });

  it('accepts either algorithm for either artifact, and pre-release versions', () => {
    const doc = userJson({ kubernetesVersion: 'v1.36.0-rc.1' });
    (doc.artifacts as Record<string, unknown>)['kubernetes-server'] = { url: 'https://dl.k8s.io/x.tar.gz', sha256: SHA256 };
    const m = parse(doc);
    expect(m.kubernetesVersion).toBe('v1.36.0-rc.1');
    expect(m.artifacts['kubernetes-server'].algorithm).toBe('sha256');
  });

  const artifact = (name: string, value: unknown) => {
    const doc = userJson();
    (doc.artifacts as Record<string, unknown>)[name] = value;
    return doc;
  };
  const etcdUrl = 'https://x.example/etcd.tar.gz';

  // Each case: the manifest, and what its one problem must say.
  const cases: [string, unknown, RegExp][] = [
    ['text that is not JSON', '{"kubernetesVersion": ', /JSON: does not parse .* Fix: serve a JSON object like \{"kubernetesVersion"/],
    ['JSON that is not an object', '[1]', /JSON: must be an object, got an array/],
    [
      'an unknown top-level key',
      userJson({ kubernetesVerison: 'v1.34.2' }),
      /manifest: has an unknown key "kubernetesVerison"\. Fix: check its spelling; the keys are kubernetesVersion, etcdVersion, artifacts/,
    ],
    [
      'a missing version',
      userJson({ etcdVersion: undefined }),
      /etcdVersion: must be a string, it is missing\. Fix: add "etcdVersion": "v3\.5\.24"/,
    ],
    ['a version that is a number', userJson({ etcdVersion: 3.5 }), /etcdVersion: must be a string, got a number/],
    [
      'a version without its v',
      userJson({ kubernetesVersion: '1.34.2' }),
      /kubernetesVersion: must look like v1\.34\.2 .*got "1\.34\.2"\. Fix: add the leading v: "v1\.34\.2"/,
    ],
    [
      'a version that is not semver',
      userJson({ etcdVersion: 'v3.5' }),
      /etcdVersion: must look like v3\.5\.24 .*got "v3\.5"\. Fix: write the release tag exactly as upstream does/,
    ],
    [
      'missing artifacts',
      userJson({ artifacts: undefined }),
      /artifacts: must be an object with "kubernetes-server" and "etcd", it is missing/,
    ],
    [
      'an unknown artifact',
      artifact('kube-server', {}),
      /artifacts: has an unknown key "kube-server"\. Fix: check its spelling; the keys are kubernetes-server, etcd/,
    ],
    ['a missing artifact', artifact('etcd', undefined), /etcd: must be an object with "url" and "sha256" or "sha512", it is missing/],
    [
      'an unknown artifact key',
      artifact('etcd', { url: etcdUrl, sha256: SHA256, sha1: 'x' }),
      /etcd: has an unknown key "sha1"\. Fix: check its spelling; the keys are url, sha256, sha512/,
    ],
    ['a missing url', artifact('etcd', { sha256: SHA256 }), /etcd: url must be a string, it is missing\. Fix: add "url"/],
    [
      'a url that is not a URL',
      artifact('etcd', { url: 'mirror/etcd.tar.gz', sha256: SHA256 }),
      /etcd: url must be an http\(s\) URL, got "mirror\/etcd\.tar\.gz"/,
    ],
    [
      'a url of another scheme',
      artifact('etcd', { url: 'ftp://x.example/etcd.tar.gz', sha256: SHA256 }),
      /etcd: url must be an http\(s\) URL, got the scheme "ftp:"/,
    ],
    [
      'a url with a space',
      artifact('etcd', { url: 'https://x.example/my etcd.tar.gz', sha256: SHA256 }),
      /etcd: url must not contain whitespace.* Fix: percent-encode spaces/,
    ],
    ['no digest', artifact('etcd', { url: etcdUrl }), /etcd: has no digest\. Fix: give exactly one of "sha256" or "sha512"/],
    [
      'two digests',
      artifact('etcd', { url: etcdUrl, sha256: SHA256, sha512: SHA512 }),
      /etcd: has both sha256 and sha512\. Fix: give exactly one/,
    ],
    ['a digest that is not a string', artifact('etcd', { url: etcdUrl, sha256: 42 }), /etcd: sha256 must be a string, got a number/],
    [
      'a truncated digest',
      artifact('etcd', { url: etcdUrl, sha256: SHA256.slice(1) }),
      /etcd: sha256 must be 64 lower-case hex digits, got 63 characters\. Fix: copy the sha256 digest .* SHA256SUMS/,
    ],
    [
      'a digest of the other algorithm',
      artifact('etcd', { url: etcdUrl, sha256: SHA512 }),
      /etcd: sha256 must be 64 lower-case hex digits, got 128 characters\. Fix: that is the length of a sha512 digest: call it sha512/,
    ],
    [
      'an upper-case digest',
      artifact('kubernetes-server', { url: etcdUrl, sha512: SHA512.toUpperCase() }),
      /kubernetes-server: sha512 must be lower-case hex, got upper-case letters\. Fix: write the same digest in lower case/,
    ],
    [
      'a digest with a non-hex character',
      artifact('etcd', { url: etcdUrl, sha256: `${SHA256.slice(0, 63)}g` }),
      /etcd: sha256 must be 64 lower-case hex digits, got "g" at position 64/,
    ],
  ];

  it.each(cases)('explains %s, naming the source', (_, doc, message) => {
    const err = errorOf(() => parse(doc));
    expect(err.problems).toHaveLength(1);
    expect(err.message).toMatch(/^the release manifest https:\/\/mirror\.example\/release\.json has 1 problem:\n {2}- /);
    expect(err.message).toMatch(message);
  });

  it('reports every problem at once', () => {
    const doc = {
      kubernetesVersion: '1.34',
      etcdVersion: 'v3.5.24',
      extra: true,
      artifacts: {
        'kubernetes-server': { url: 'file:///tmp/k.tgz', sha512: SHA512.slice(2) },
        etcd: { url: 'https://x.example/e.tgz' },
      },
    };
    const err = errorOf(() => parse(doc));
    expect(err.problems.map((p) => p.where)).toEqual(['manifest', 'kubernetesVersion', 'kubernetes-server', 'kubernetes-server', 'etcd']);
    expect(err.message).toContain('has 5 problems:');
    for (const p of err.problems) expect(err.message).toContain(`  - ${p.where}: ${p.problem} Fix: ${p.fix}`);
  });
});

describe('the metadata form', () => {
  const manifest: ReleaseManifest = parse(userJson());

  it('is a comment, then kubernetes-server and etcd, one line each', () => {
    expect(toMetadata(manifest)).toBe(
      '# <artifact> <version> <algorithm> <hex digest> <url>\n' +
        `kubernetes-server v1.34.2 sha512 ${SHA512} https://mirror.example/k8s/v1.34.2/kubernetes-server-linux-amd64.tar.gz\n` +
        `etcd v3.5.24 sha256 ${SHA256} http://mirror.example/etcd-v3.5.24-linux-amd64.tar.gz\n`,
    );
  });

  it('reads back what it wrote, in any line order, with comments, blank lines and CRLF', () => {
    expect(fromMetadata(toMetadata(manifest))).toEqual(manifest);
    const [, k8s, etcd] = toMetadata(manifest).split('\n');
    expect(fromMetadata(`# written by hand\r\n\r\n${etcd}\r\n  ${k8s}  \r\n`)).toEqual(manifest);
  });

  it('reports every bad line at once, naming the line', () => {
    const text = [
      '# comment',
      `kubernetes-server 1.34.2 sha512 ${SHA512} https://dl.k8s.io/k.tgz`,
      `kube-proxy v1.34.2 sha512 ${SHA512} https://dl.k8s.io/k.tgz`,
      `kubernetes-server v1.34.2 sha512 ${SHA512} https://dl.k8s.io/k.tgz`,
      `etcd v3.5.24 md5 ${SHA256}`,
    ].join('\n');
    const err = errorOf(() => fromMetadata(text));
    expect(err.message).toMatch(/^the release manifest in metadata ha-masters-release has 4 problems:/);
    expect(err.problems.map((p) => `${p.where}: ${p.problem}`)).toEqual([
      'line 2 (kubernetes-server): the version must look like v1.34.2 (a leading v, major.minor.patch, optionally a pre-release such as -rc.1), got "1.34.2".',
      'line 3: names the unknown artifact "kube-proxy".',
      'line 4: repeats the artifact kubernetes-server.',
      'line 5: must have 5 fields "<artifact> <version> <algorithm> <hex digest> <url>", got 4.',
    ]);
    expect(errorOf(() => fromMetadata('# nothing\n')).problems.map((p) => `${p.where}: ${p.problem}`)).toEqual([
      'kubernetes-server: has no line.',
      'etcd: has no line.',
    ]);
  });

  it('checks the algorithm, the digest and the url of a line', () => {
    const err = errorOf(() =>
      fromMetadata(`kubernetes-server v1.34.2 sha1 ${SHA512} https://dl.k8s.io/k.tgz\netcd v3.5.24 sha256 ${SHA512} gs://b/e.tgz\n`),
    );
    expect(err.problems.map((p) => `${p.where}: ${p.problem}`)).toEqual([
      'line 1 (kubernetes-server): the algorithm must be sha256 or sha512, got "sha1".',
      'line 2 (etcd): the url must be an http(s) URL, got the scheme "gs:".',
      'line 2 (etcd): sha256 must be 64 lower-case hex digits, got 128 characters.',
    ]);
  });
});

describe('loadReleaseManifest', () => {
  const body = JSON.stringify(userJson());
  let dir: string;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'release-manifest-'));
    server = createServer((req, res) => {
      if (req.url === '/release.json') res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      else if (req.url === '/broken.json') res.writeHead(200).end('{"kubernetesVersion": "v1.34.2"}');
      else res.writeHead(404).end('not found');
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a local file', async () => {
    const path = join(dir, 'release.json');
    await writeFile(path, body);
    expect(await loadReleaseManifest(path)).toEqual(parse(body));
  });

  it('fetches an http URL', async () => {
    expect(await loadReleaseManifest(`${base}/release.json`)).toEqual(parse(body));
  });

  it('says which file it tried when it is missing', async () => {
    const path = join(dir, 'nope.json');
    await expect(loadReleaseManifest(path)).rejects.toThrow(
      new RegExp(
        `release-manifest: tried the local file ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} and could not read it \\(ENOENT.*\\)\\. Fix: check the path`,
      ),
    );
  });

  it('says what the server answered on a 404', async () => {
    await expect(loadReleaseManifest(`${base}/missing.json`)).rejects.toThrow(
      `release-manifest: GET ${base}/missing.json answered HTTP 404. Fix: check the URL;`,
    );
  });

  it('says why a server that does not answer failed', async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/release.json`;
    await new Promise((done) => closed.close(done));
    await expect(loadReleaseManifest(url)).rejects.toThrow(
      new RegExp(`GET ${url} got no answer \\(fetch failed: .*ECONNREFUSED.*\\)\\. Fix: check the host`),
    );
  });

  it('names the URL when what it serves is not a valid manifest', async () => {
    await expect(loadReleaseManifest(`${base}/broken.json`)).rejects.toThrow(`the release manifest ${base}/broken.json has 2 problems:`);
  });

  it('refuses other schemes and an empty reference, saying what to do', async () => {
    await expect(loadReleaseManifest('gs://bucket/release.json')).rejects.toThrow(
      /gs:\/\/ is not supported, only local paths and http\(s\) URLs\. Fix: give its https URL/,
    );
    await expect(loadReleaseManifest('  ')).rejects.toThrow('release-manifest is empty. Fix:');
  });
});
