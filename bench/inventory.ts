/** The bench's inventory: 3 etcd members, 3 control planes (2 of them load balancers) and N workers. */

/** An inventory object (JSON) of 3 etcd members, 3 control planes and `workers` workers. */
export function benchInventory(workers: number): object {
  const worker = (i: number) => ({ name: `worker${i + 1}`, address: `10.${20 + Math.floor(i / 250)}.${i % 250}.${10 + (i % 200)}`, roles: ['worker'] });
  return {
    cluster: { kubernetesVersion: '1.34.2', podSubnet: '10.128.0.0/12', serviceSubnet: '10.96.0.0/16' },
    loadBalancer: { vip: '10.19.0.100' },
    hosts: [
      ...[1, 2, 3].map((i) => ({ name: `etcd${i}`, address: `10.19.0.${i}`, roles: ['etcd'] })),
      ...[1, 2, 3].map((i) => ({ name: `cp${i}`, address: `10.19.0.${10 + i}`, roles: i < 3 ? ['control-plane', 'loadbalancer'] : ['control-plane'] })),
      ...Array.from({ length: workers }, (_, i) => worker(i)),
    ],
  };
}
