/** kube-flannel.yml: every object validated with kubernetes-models, pinned images of one release, Network = podSubnet. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadAll } from 'js-yaml';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { compileDoc, text, type InventoryDoc } from './helpers.js';
import { FLANNEL_MANIFEST_PATH, FLANNEL_RELEASE } from '../src/render/flannel.js';

const rootfs = (path: string) => `rootfs${path}`;
type Obj = Record<string, any>;

const MODELS: Record<string, new (data: any) => { validate(): void }> = { Namespace, ServiceAccount, ConfigMap, ClusterRole, ClusterRoleBinding, DaemonSet };

function inventory(backend: string, podSubnet: string): InventoryDoc {
  return {
    cluster: { kubernetesVersion: '1.34.2', podSubnet, serviceSubnet: '10.96.0.0/16', cni: { plugin: 'flannel', backend } },
    hosts: [
      { name: 'cp1', address: '127.0.1.1', roles: ['control-plane', 'etcd'] },
      { name: 'w1', address: '127.0.1.2', roles: ['worker'] },
    ],
  };
}

for (const [backend, podSubnet] of [
  ['vxlan', '10.244.0.0/16'],
  ['host-gw', '10.97.0.0/16'],
  ['wireguard', '172.30.0.0/16'],
] as const) {
  test(`flannel ${backend}: objects validate, Network = podSubnet, Backend.Type, one pinned release`, async () => {
    const { hosts } = await compileDoc(inventory(backend, podSubnet));
    const objects = loadAll(text(hosts, 'cp1', rootfs(FLANNEL_MANIFEST_PATH))) as Obj[];
    assert.equal(
      objects.map((o) => o.kind),
      ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'DaemonSet'],
    );
    for (const o of objects) {
      const Model = MODELS[o.kind]!;
      new Model(o).validate();
      if (o.kind !== 'Namespace' && o.kind !== 'ClusterRole' && o.kind !== 'ClusterRoleBinding') assert.is(o.metadata.namespace, 'kube-flannel', o.kind);
    }
    assert.is(objects[0]!.metadata.labels['pod-security.kubernetes.io/enforce'], 'privileged');
    const cm = objects.find((o) => o.kind === 'ConfigMap')!;
    const net = JSON.parse(cm.data['net-conf.json']);
    assert.is(net.Network, podSubnet);
    assert.is(net.Backend.Type, backend);
    assert.is(JSON.parse(cm.data['cni-conf.json']).plugins[0].type, 'flannel');
    const ds = objects.find((o) => o.kind === 'DaemonSet')!;
    const spec = ds.spec.template.spec;
    const images = [...spec.initContainers, ...spec.containers].map((c: Obj) => c.image);
    assert.equal(images, [FLANNEL_RELEASE.cniPluginImage, FLANNEL_RELEASE.image, FLANNEL_RELEASE.image]);
    for (const image of images) assert.match(image, /:v\d+\.\d+\.\d+(-flannel\d+)?$/, 'pinned tag, never latest');
    // flanneld tunnels over the link of the node's InternalIP (the kubelet's node-ip, the inventory's address), not the
    // default route's: --iface takes an address (flannel v0.27.4 main.go: "interface to use (IP or name)").
    const flanneld = spec.containers[0];
    assert.ok(flanneld.args.includes('--iface=$(NODE_IP)'), flanneld.args.join(' '));
    assert.equal(
      flanneld.env.find((e: Obj) => e.name === 'NODE_IP'),
      { name: 'NODE_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
    );
    assert.is(spec.serviceAccountName, objects[1]!.metadata.name);
    assert.is(objects[3]!.subjects[0].namespace, 'kube-flannel');
    assert.equal(ds.spec.selector.matchLabels, { app: 'flannel', 'k8s-app': 'flannel' });
    for (const [k, v] of Object.entries(ds.spec.selector.matchLabels)) assert.is(ds.spec.template.metadata.labels[k], v);
    assert.ok(spec.volumes.some((v: Obj) => v.configMap?.name === cm.metadata.name));
  });
}

test('kubernetes-models really validates: a broken DaemonSet is rejected', () => {
  assert.throws(() => new DaemonSet({ metadata: { name: 'x' }, spec: { selector: {}, template: { spec: { containers: 'nope' } } } } as any).validate());
});

test.run();
