// The firewall rule that the owner of a self-hosted runner inside the VPC adds, so that the runner
// reaches etcd's client port on the masters (the action's own rules let in only the replicas, the
// load balancer's clients and its health checks). In the emulator a process inside the VPC's
// namespace has its subnet's gateway address; on GCE this would be the runner VM's range or tag.
import { REGION_SUBNETS, subnetGateway } from '../emulator/vm/names.ts';

export const RUNNER_FIREWALL = 'self-hosted-runner-to-etcd';

export async function allowSelfHostedRunner(emulatorUrl: string, project: string, network = 'default'): Promise<void> {
  const res = await fetch(`${emulatorUrl}/compute/v1/projects/${project}/global/firewalls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: RUNNER_FIREWALL,
      network: `projects/${project}/global/networks/${network}`,
      description: 'the self-hosted runner inside the VPC reaches etcd on the masters',
      allowed: [{ IPProtocol: 'tcp', ports: ['2379'] }],
      sourceRanges: Object.keys(REGION_SUBNETS).map((region) => `${subnetGateway(region)}/32`),
    }),
  });
  if (!res.ok) throw new Error(`creating firewall ${RUNNER_FIREWALL} failed: ${res.status} ${await res.text()}`);
}
