// Kubernetes' metav1.Status bodies, which clients (e.g. @kubernetes/client-node) parse on errors.
export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string };
  code: number;
}

export function failureStatus(code: number, reason: string, message: string, details?: KubeStatus['details']): KubeStatus {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

export function leaseNotFound(name: string): KubeStatus {
  return failureStatus(404, 'NotFound', `leases.coordination.k8s.io "${name}" not found`, {
    name,
    group: 'coordination.k8s.io',
    kind: 'leases',
  });
}

export function deletedStatus(name: string, uid: string): KubeStatus {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name, group: 'coordination.k8s.io', kind: 'leases', uid },
    code: 200,
  };
}
