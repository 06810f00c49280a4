// The VPC firewall as nftables text: which rules apply to a VM, in which order, and what each
// matches; and the same decision made in code (decidingRule, what the IAP relay checks before it
// dials). (debian-firewall.test.ts checks that the kernel enforces it on real VMs.)
import { decidingRule, firewallRuleset, inRange, rulesFor } from '../../emulator/vm/firewall.ts';
import type { RuntimeFirewall, RuntimeInstance } from '../../emulator/runtime/types.ts';

const vm = (name: string, ip: string, tags: string[], network = 'default'): RuntimeInstance => ({
  key: `europe-west1-b/${name}`,
  name,
  zone: 'europe-west1-b',
  status: 'RUNNING',
  internalIp: ip,
  externalIps: [],
  metadata: {},
  dataDiskDir: '',
  project: 'p',
  id: '1',
  network,
  region: 'europe-west1',
  bootImage: '',
  bootDiskDir: '',
  tags,
});

const rule = (name: string, over: Partial<RuntimeFirewall> = {}): RuntimeFirewall => ({
  name,
  network: 'default',
  direction: 'INGRESS',
  priority: 1000,
  disabled: false,
  action: 'allow',
  rules: [{ protocol: 'tcp', ports: ['2379', '2380'] }],
  sourceRanges: [],
  sourceTags: ['master'],
  targetTags: ['master'],
  ...over,
});

const a = vm('a', '10.132.0.2', ['master']);
const b = vm('b', '10.132.0.3', ['master']);
const other = vm('c', '10.132.0.4', ['web']);

test('rules apply by target tag, network, direction and state; lower priority numbers first, a deny first at a tie', () => {
  const firewalls = [
    rule('allow-late', { priority: 2000 }),
    rule('allow-tie', { priority: 900 }),
    rule('deny-tie', { priority: 900, action: 'deny' }),
    rule('every-vm', { targetTags: [], sourceRanges: ['0.0.0.0/0'], sourceTags: [] }),
    rule('web-only', { targetTags: ['web'] }),
    rule('elsewhere', { network: 'other' }),
    rule('egress', { direction: 'EGRESS' }),
    rule('off', { disabled: true }),
  ];
  expect(rulesFor(a, firewalls).map((f) => f.name)).toEqual(['deny-tie', 'allow-tie', 'every-vm', 'allow-late']);
  expect(rulesFor(other, firewalls).map((f) => f.name)).toEqual(['every-vm', 'web-only']);
});

test("source tags become the tagged VMs' internal IPs, ranges stay ranges, ports are matched", () => {
  const text = firewallRuleset(
    'default',
    [a, b, other],
    [rule('etcd'), rule('https', { sourceTags: [], sourceRanges: ['0.0.0.0/0'], rules: [{ protocol: 'tcp', ports: ['443'] }] })],
  );
  expect(text).toContain('ip saddr { 10.132.0.2, 10.132.0.3 } tcp dport { 2379, 2380 } accept comment "etcd"');
  expect(text).toContain('ip saddr { 0.0.0.0/0 } tcp dport { 443 } accept comment "https"');
  // Each VM's chain ends in a drop: ingress is denied unless allowed. The untagged VM gets no rule.
  const chainOfOther = text.slice(text.indexOf('# europe-west1-b/c'));
  expect(chainOfOther.slice(0, chainOfOther.indexOf('}'))).not.toContain('accept');
  expect(text.match(/^ {4}drop$/gm)).toHaveLength(3);
  // Both paths into a VM are filtered: from other VMs and from the VPC's own side (gateway, runner).
  expect(text).toContain('type filter hook forward priority 0; policy accept;');
  expect(text).toContain('type filter hook output priority 0; policy accept;');
  expect(text).toContain(
    'tcp flags & (syn | ack) == syn ip daddr vmap { 10.132.0.2 : jump into_vm0, 10.132.0.3 : jump into_vm1, 10.132.0.4 : jump into_vm2 }',
  );
});

test('a deny drops, "all" matches every port, and rules without TCP or without any source add nothing', () => {
  const text = firewallRuleset(
    'default',
    [a],
    [
      rule('deny-all', { action: 'deny', rules: [{ protocol: 'all', ports: [] }], sourceRanges: ['35.191.0.0/16'], sourceTags: [] }),
      rule('udp-only', { rules: [{ protocol: 'udp', ports: ['53'] }], sourceRanges: ['0.0.0.0/0'] }),
      rule('no-such-tag', { sourceTags: ['nobody'] }),
    ],
  );
  expect(text).toContain('ip saddr { 35.191.0.0/16 } drop comment "deny-all"');
  expect(text).not.toContain('udp-only');
  expect(text).not.toContain('no-such-tag');
});

test('VMs of other networks are left out, and a network with no VM still gets an empty, valid table', () => {
  const text = firewallRuleset('default', [vm('x', '10.132.0.9', ['master'], 'other')], [rule('etcd')]);
  expect(text).not.toContain('10.132.0.9');
  expect(text).not.toContain('vmap');
  expect(text.startsWith('table bridge ha_firewall\ndelete table bridge ha_firewall\n')).toBe(true);
});

test('the deciding rule for one connection: source range or tag, port or port range, priority, deny at a tie', () => {
  const iap = '35.235.240.1';
  const fromIap = rule('iap', {
    sourceTags: [],
    sourceRanges: ['35.235.240.0/20'],
    rules: [{ protocol: 'tcp', ports: ['22', '2379-2380'] }],
  });
  expect(decidingRule(a, [fromIap], [a, b], iap, 2379)?.name).toBe('iap');
  expect(decidingRule(a, [fromIap], [a, b], iap, 2380)?.name).toBe('iap');
  expect(decidingRule(a, [fromIap], [a, b], iap, 443)).toBeUndefined();
  expect(decidingRule(a, [fromIap], [a, b], '35.235.224.1', 22)).toBeUndefined(); // just outside the /20
  expect(decidingRule(other, [fromIap], [a, b, other], iap, 22)).toBeUndefined(); // not a target
  // Source tags stand for the tagged VMs' addresses; 'all' covers every port.
  expect(decidingRule(a, [rule('etcd')], [a, b, other], b.internalIp, 2380)?.name).toBe('etcd');
  expect(decidingRule(a, [rule('etcd')], [a, b, other], other.internalIp, 2380)).toBeUndefined();
  const denyAll = rule('deny-all', {
    action: 'deny',
    priority: 1000,
    sourceTags: [],
    sourceRanges: ['0.0.0.0/0'],
    rules: [{ protocol: 'all', ports: [] }],
  });
  expect(decidingRule(a, [fromIap, denyAll], [a], iap, 22)?.name).toBe('deny-all');
  expect(decidingRule(a, [fromIap, { ...denyAll, priority: 1001 }], [a], iap, 22)?.name).toBe('iap');
  expect(decidingRule(a, [fromIap, { ...denyAll, disabled: true }], [a], iap, 22)?.name).toBe('iap');
  expect(
    decidingRule(a, [rule('udp', { sourceTags: [], sourceRanges: ['0.0.0.0/0'], rules: [{ protocol: 'udp', ports: [] }] })], [a], iap, 22),
  ).toBeUndefined();
});

test('address ranges', () => {
  expect(inRange('35.235.240.1', '35.235.240.0/20')).toBe(true);
  expect(inRange('35.235.255.255', '35.235.240.0/20')).toBe(true);
  expect(inRange('35.236.0.0', '35.235.240.0/20')).toBe(false);
  expect(inRange('203.0.113.7', '0.0.0.0/0')).toBe(true);
  expect(inRange('10.132.0.2', '10.132.0.2')).toBe(true);
  expect(inRange('10.132.0.3', '10.132.0.2/32')).toBe(false);
});
