// The kubeconfig reader of the control-plane stand-ins (emulator/standins/block-yaml.ts): for the
// block-style YAML kubeconfigs are written in it gives exactly yaml.parse's value; for anything
// else it gives undefined, and the stand-in falls back to the `yaml` package.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseBlockYaml } from '../../emulator/standins/block-yaml.ts';

// As vm/startup.sh writes it.
const STARTUP_KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:443
    certificate-authority: /etc/ha-masters/pki/ca.crt
    # Verify the name every serving cert (MASTER_CERT or APISERVER_CERT) carries.
    tls-server-name: kubernetes
users:
- name: system:kube-scheduler
  user:
    client-certificate: /etc/ha-masters/pki/kube-scheduler.crt
    client-key: /etc/ha-masters/pki/kube-scheduler.key
contexts:
- name: default
  context:
    cluster: local
    user: system:kube-scheduler
current-context: default
`;

// As kubectl config writes it: indented sequences, inline data, quoted strings, booleans, nulls.
const KUBECTL_KUBECONFIG = `apiVersion: v1
clusters:
  - cluster:
      certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
      insecure-skip-tls-verify: false
      server: 'https://203.0.113.9'
    name: "gke_project_zone_name"
contexts:
  -
    context:
      cluster: gke_project_zone_name
      namespace: ~
      user: admin
    name: ctx
current-context: ctx
kind: Config
preferences: {}
users:
- name: admin
  user:
    token: abc#def
    as-user-extra:
    exec: null
    insecure: True
    quote: 'it''s'
    list:
    - a
    - b
`;

test('block-style kubeconfigs: the same value as yaml.parse', () => {
  const withoutFlow = KUBECTL_KUBECONFIG.replace('preferences: {}\n', '');
  for (const text of [STARTUP_KUBECONFIG, withoutFlow, STARTUP_KUBECONFIG.replaceAll('\n', '\r\n')]) {
    expect(parseBlockYaml(text)).toEqual(parse(text));
    expect(parseBlockYaml(text)).not.toBeUndefined();
  }
});

test('anything else is left to the yaml package (undefined)', () => {
  const others = [
    KUBECTL_KUBECONFIG, // preferences: {} (flow style)
    'a: [1, 2]\n',
    'a: &x b\nc: *x\n',
    'a: !!str b\n',
    'a: |\n  text\n',
    'a: >\n  text\n',
    'a: 1\n',
    'a: 0x1f\n',
    'a: .inf\n',
    'a: "with \\"escape\\""\n',
    'a: "tab\\t"\n',
    '---\na: b\n',
    'a: b\n---\nc: d\n',
    'a:\n\tb: c\n',
    'a: b\na: c\n',
    'a: b # comment\n',
    'a: b\n  continued\n',
    'a:\n  b: c\n d: e\n',
    '? a\n: b\n',
    '1: a\n',
    'true: a\n',
    'just a scalar\n',
    '',
    "a: 'multi\n  line'\n",
    'a: b: c\n',
    '__proto__: x\n',
  ];
  for (const text of others) expect([text, parseBlockYaml(text)]).toEqual([text, undefined]);
});

test('a stand-in reading the start-up kubeconfig does not load the yaml package; another kubeconfig still loads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'block-yaml-'));
  try {
    // The certificate files relative to the kubeconfig, as client-go resolves them.
    writeFileSync(join(dir, 'plain.kubeconfig'), STARTUP_KUBECONFIG.replaceAll('/etc/ha-masters/pki/', ''));
    for (const f of ['ca.crt', 'kube-scheduler.crt', 'kube-scheduler.key']) writeFileSync(join(dir, f), 'pem');
    writeFileSync(join(dir, 'flow.kubeconfig'), KUBECTL_KUBECONFIG);
    const probe = `
      import { createRequire } from 'node:module';
      import { loadKubeconfig } from ${JSON.stringify(join(process.cwd(), 'emulator/standins/kubeconfig.ts'))};
      const yamlLoaded = () => Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes('/node_modules/yaml/'));
      const plain = loadKubeconfig(process.argv[1] + '/plain.kubeconfig');
      const before = yamlLoaded();
      const flow = loadKubeconfig(process.argv[1] + '/flow.kubeconfig');
      console.log(JSON.stringify({ before, after: yamlLoaded(), plain: plain.server, flow: flow.server, token: flow.token }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe, dir], { cwd: process.cwd() }).toString();
    expect(JSON.parse(out)).toEqual({
      before: false,
      after: true,
      plain: 'https://127.0.0.1:443',
      flow: 'https://203.0.113.9',
      token: 'abc#def',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
