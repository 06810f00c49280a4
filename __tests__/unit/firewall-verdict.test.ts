// How the action explains an IAP tunnel the VPC's firewall keeps out, the way GCE decides ingress.
import { decidingRuleForIap, iapFirewallProblem, rangesOverlap } from '../../src/plan/firewall-verdict.ts';
import type { FirewallRule } from '../../src/gce/types.ts';

const rule = (over: Partial<FirewallRule> & { name: string }): FirewallRule => ({
  network: 'default',
  direction: 'INGRESS',
  priority: 1000,
  disabled: false,
  action: 'allow',
  rules: [{ protocol: 'tcp', ports: ['2379', '443'] }],
  sourceRanges: ['35.235.240.0/20'],
  sourceTags: [],
  targetTags: ['kubernetes-master'],
  byServiceAccount: false,
  ...over,
});
const IAP = rule({ name: 'kubernetes-master-iap' });
const vm = { instance: 'kubernetes-master-1ab', tags: ['kubernetes-master'], port: 2379 };

test('ranges overlap when they share an address, not otherwise', () => {
  expect(rangesOverlap('35.235.240.0/20', '35.235.241.0/24')).toBe(true);
  expect(rangesOverlap('0.0.0.0/0', '35.235.240.0/20')).toBe(true);
  expect(rangesOverlap('35.235.224.0/20', '35.235.240.0/20')).toBe(false);
  expect(rangesOverlap('35.235.255.255', '35.235.240.0/20')).toBe(true);
});

test('the lowest priority number decides; a deny wins a tie', () => {
  const deny = rule({ name: 'zz-deny', action: 'deny', priority: 1000, sourceRanges: ['0.0.0.0/0'], targetTags: [] });
  expect(decidingRuleForIap([IAP, deny], { network: 'default', tags: vm.tags, port: 2379 })?.name).toBe('zz-deny');
  const lower = rule({ name: 'deny-late', action: 'deny', priority: 65534, sourceRanges: ['0.0.0.0/0'], targetTags: [] });
  expect(decidingRuleForIap([IAP, lower], { network: 'default', tags: vm.tags, port: 2379 })?.name).toBe('kubernetes-master-iap');
});

test("rules of another network, egress, disabled, for other ports or other tags, or outside IAP's range do not count", () => {
  const others = [
    rule({ name: 'a', action: 'deny', network: 'other', priority: 1 }),
    rule({ name: 'b', action: 'deny', direction: 'EGRESS', priority: 1 }),
    rule({ name: 'c', action: 'deny', disabled: true, priority: 1 }),
    rule({ name: 'd', action: 'deny', rules: [{ protocol: 'tcp', ports: ['22'] }], priority: 1 }),
    rule({ name: 'e', action: 'deny', targetTags: ['nodes'], priority: 1 }),
    rule({ name: 'f', action: 'deny', sourceRanges: ['10.0.0.0/8'], priority: 1 }),
    rule({ name: 'g', action: 'deny', rules: [{ protocol: 'udp', ports: [] }], priority: 1 }),
  ];
  expect(decidingRuleForIap([IAP, ...others], { network: 'default', tags: vm.tags, port: 2379 })?.name).toBe('kubernetes-master-iap');
  const range = rule({ name: 'h', action: 'deny', rules: [{ protocol: 'all', ports: [] }], priority: 5 });
  expect(decidingRuleForIap([IAP, range], { network: 'default', tags: vm.tags, port: 2379 })?.name).toBe('h');
  const portRange = rule({ name: 'i', action: 'deny', rules: [{ protocol: 'tcp', ports: ['2000-3000'] }], priority: 5 });
  expect(decidingRuleForIap([IAP, portRange], { network: 'default', tags: vm.tags, port: 2379 })?.name).toBe('i');
});

test('a deny that outranks the IAP rule is named with both priorities and the ways out', () => {
  const deny = rule({
    name: 'deny-all-in',
    action: 'deny',
    priority: 500,
    sourceRanges: ['0.0.0.0/0'],
    targetTags: [],
    rules: [{ protocol: 'all', ports: [] }],
  });
  const p = iapFirewallProblem([IAP, deny], 'default', 'kubernetes-master-iap', [vm]);
  expect(p?.problem).toBe(
    "IAP cannot reach kubernetes-master-1ab on tcp 2379: the firewall rule deny-all-in (priority 500) denies IAP's range 35.235.240.0/20 and outranks kubernetes-master-iap (priority 1000), which allows it",
  );
  expect(p?.fix).toContain('give kubernetes-master-iap a smaller priority number than 500');
  expect(p?.fix).toContain('transport: direct');
});

test('an IAP rule that does not apply to the VM (wrong tag) is named with the tags on both sides', () => {
  const wrong = rule({ name: 'kubernetes-master-iap', targetTags: ['old-master-tag'] });
  const p = iapFirewallProblem([wrong], 'default', 'kubernetes-master-iap', [vm]);
  expect(p?.problem).toContain('kubernetes-master-iap targets old-master-tag on default, and the VM has the tags kubernetes-master');
});

test('nothing to explain when the rules let IAP in (nothing listens yet), or when the IAP rule is missing (up makes it again)', () => {
  expect(iapFirewallProblem([IAP], 'default', 'kubernetes-master-iap', [vm])).toBeUndefined();
  expect(iapFirewallProblem([], 'default', 'kubernetes-master-iap', [vm])).toBeUndefined();
});

test("rules that pick VMs by service account are left out: the verdict cannot see the VM's account", () => {
  const bySa = rule({ name: 'sa-deny', action: 'deny', priority: 1, byServiceAccount: true });
  expect(decidingRuleForIap([IAP, bySa], { network: 'default', tags: vm.tags, port: 2379 })?.name).toBe('kubernetes-master-iap');
});
