import { controlPlaneLeases, holderHostname } from '../../src/kube/control-plane-leases.ts';
import { vmOfHostname } from '../../src/model.ts';

describe('controlPlaneLeases', () => {
  test('identity leases by their label, leaders of kube-controller-manager and kube-scheduler by holder', () => {
    const view = controlPlaneLeases([
      {
        metadata: {
          name: 'apiserver-wj467rbl25eeviqacfhvg2yvnm',
          labels: { 'apiserver.kubernetes.io/identity': 'kube-apiserver', 'kubernetes.io/hostname': 'kubernetes-master-a1f' },
        },
        spec: {
          holderIdentity: 'apiserver-wj467rbl25eeviqacfhvg2yvnm_3c4d5e6f-0000-4000-8000-000000000001',
          renewTime: '2026-12-02T10:00:00.000000Z',
          leaseDurationSeconds: 3600,
        },
      },
      {
        metadata: {
          name: 'apiserver-mpzb65c4laynqu6rnedjohxo3e',
          labels: { 'apiserver.kubernetes.io/identity': 'kube-apiserver', 'kubernetes.io/hostname': 'kubernetes-master' },
        },
        spec: { holderIdentity: 'apiserver-mpzb65c4laynqu6rnedjohxo3e_3c4d5e6f-0000-4000-8000-000000000002' },
      },
      {
        metadata: { name: 'kube-controller-manager' },
        spec: {
          holderIdentity: 'kubernetes-master_0b5b1b84-1a43-4a0e-9a59-5d0f6c8f7d22',
          leaseDurationSeconds: 15,
          renewTime: '2026-12-02T10:00:01.000000Z',
        },
      },
      {
        metadata: { name: 'kube-scheduler' },
        spec: { holderIdentity: 'kubernetes-master-a1f.europe-west1-b.c.p.internal_6f1c0f5e-54a4-4b43-9d3c-3b0e1d1f0a11' },
      },
      // An old-style label is not the identity label of v1.26+; other leases are no leaders.
      {
        metadata: { name: 'kube-apiserver-legacy', labels: { 'k8s.io/component': 'kube-apiserver' } },
        spec: { holderIdentity: 'kube-apiserver-legacy' },
      },
      { metadata: { name: 'cloud-controller-manager' }, spec: { holderIdentity: 'x_1' } },
    ]);
    expect(view).toEqual({
      readable: true,
      identities: [
        {
          name: 'apiserver-mpzb65c4laynqu6rnedjohxo3e',
          hostname: 'kubernetes-master',
          holderIdentity: 'apiserver-mpzb65c4laynqu6rnedjohxo3e_3c4d5e6f-0000-4000-8000-000000000002',
        },
        {
          name: 'apiserver-wj467rbl25eeviqacfhvg2yvnm',
          hostname: 'kubernetes-master-a1f',
          holderIdentity: 'apiserver-wj467rbl25eeviqacfhvg2yvnm_3c4d5e6f-0000-4000-8000-000000000001',
          renewTime: '2026-12-02T10:00:00.000000Z',
        },
      ],
      controllerManager: {
        holderIdentity: 'kubernetes-master_0b5b1b84-1a43-4a0e-9a59-5d0f6c8f7d22',
        hostname: 'kubernetes-master',
        leaseDurationSeconds: 15,
        renewTime: '2026-12-02T10:00:01.000000Z',
      },
      scheduler: {
        holderIdentity: 'kubernetes-master-a1f.europe-west1-b.c.p.internal_6f1c0f5e-54a4-4b43-9d3c-3b0e1d1f0a11',
        hostname: 'kubernetes-master-a1f.europe-west1-b.c.p.internal',
      },
    });
  });

  test('a released leader lease (empty holder) has no leader', () => {
    expect(controlPlaneLeases([{ metadata: { name: 'kube-scheduler' }, spec: { holderIdentity: '' } }])).toEqual({
      readable: true,
      identities: [],
    });
  });

  test('holder and hostname parsing', () => {
    expect(holderHostname('kubernetes-master-0c1_9f8e7d6c-0000-4000-8000-000000000000')).toBe('kubernetes-master-0c1');
    expect(holderHostname('no-uuid')).toBe('no-uuid');
    expect(vmOfHostname('kubernetes-master-0c1.europe-west1-c.c.my-project.internal')).toBe('kubernetes-master-0c1');
    expect(vmOfHostname('kubernetes-master')).toBe('kubernetes-master');
  });
});
