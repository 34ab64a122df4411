/** The declared list of certificate authorities, leaf certificates and key pairs kubeha keeps. */
import type { ClusterModel, HostModel } from '../model/types.js';

/** Extended key usages a leaf may carry. */
export type Usage = 'serverAuth' | 'clientAuth';

/** Subject alternative names of a leaf. */
export interface Sans {
  dns: string[];
  ip: string[];
}

/** A certificate authority: self-signed, lives in the secrets folder. */
export interface CaSpec {
  name: string;
  /** Path stem in the secrets folder: `<stem>.crt` and `<stem>.key`. */
  stem: string;
  commonName: string;
}

/** A leaf certificate issued by one of the CAs, cluster-wide or one per host. */
export interface LeafSpec {
  name: string;
  ca: string;
  usages: readonly Usage[];
  /** Hosts that get their own copy; null for a single cluster-wide certificate. */
  perHost: ((model: ClusterModel) => HostModel[]) | null;
  stem: (host: HostModel | null) => string;
  subject: (host: HostModel | null) => { commonName: string; organization?: string };
  sans: (host: HostModel | null) => Sans;
}

/** A bare key pair: `<stem>.key` (private, PKCS#8) and `<stem>.pub` (SPKI). */
export interface KeyPairSpec {
  name: string;
  stem: string;
}

/** Kubernetes cluster CA, front-proxy CA and etcd CA, as kubeadm names them. */
export function certificateAuthorities(): readonly CaSpec[] {
  return Object.freeze([
    { name: 'ca', stem: 'ca', commonName: 'kubernetes' },
    { name: 'front-proxy-ca', stem: 'front-proxy-ca', commonName: 'front-proxy-ca' },
    { name: 'etcd-ca', stem: 'etcd/ca', commonName: 'etcd-ca' },
  ]);
}

const memberSans = (host: HostModel | null): Sans => ({
  dns: [host!.name, 'localhost'],
  ip: [host!.address, '127.0.0.1'],
});
const etcdMembers = (model: ClusterModel) => model.hosts.filter((h) => h.isEtcd);

/** The leaf certificates: per etcd member a server and a peer certificate, and the API servers' etcd client. */
export function leafCertificates(): readonly LeafSpec[] {
  return Object.freeze([
    {
      name: 'etcd-server', ca: 'etcd-ca', usages: ['serverAuth', 'clientAuth'], perHost: etcdMembers,
      stem: (h) => `etcd/${h!.name}-server`, subject: (h) => ({ commonName: h!.name }), sans: memberSans,
    },
    {
      name: 'etcd-peer', ca: 'etcd-ca', usages: ['serverAuth', 'clientAuth'], perHost: etcdMembers,
      stem: (h) => `etcd/${h!.name}-peer`, subject: (h) => ({ commonName: h!.name }), sans: memberSans,
    },
    {
      name: 'apiserver-etcd-client', ca: 'etcd-ca', usages: ['clientAuth'], perHost: null,
      stem: () => 'apiserver-etcd-client', subject: () => ({ commonName: 'kube-apiserver-etcd-client' }), sans: () => ({ dns: [], ip: [] }),
    },
  ]);
}

/** Key pairs that are not certificates: the service-account signing key. */
export function keyPairs(): readonly KeyPairSpec[] {
  return Object.freeze([{ name: 'sa', stem: 'sa' }]);
}

/** One concrete certificate to hold: a spec applied to a host (or to the cluster). */
export interface LeafInstance {
  spec: LeafSpec;
  host: HostModel | null;
  stem: string;
}

/** Every leaf the model needs, in a stable order; throws when a leaf names an unknown CA. */
export function leafInstances(model: ClusterModel): LeafInstance[] {
  const cas = new Set(certificateAuthorities().map((ca) => ca.name));
  return leafCertificates().flatMap((spec) => {
    if (!cas.has(spec.ca)) throw new Error(`certificate "${spec.name}" references unknown CA "${spec.ca}"`);
    const hosts = spec.perHost ? spec.perHost(model) : [null];
    return hosts.map((host) => ({ spec, host, stem: spec.stem(host) }));
  });
}
