/** The declared list of certificate authorities, leaf certificates and key pairs kubeha keeps. */
import type { ClusterModel, HostModel } from '../model/types.js';

/** Extended key usages a leaf may carry. */
export type Usage = 'serverAuth' | 'clientAuth';

/** Subject alternative names of a leaf. */
export interface Sans {
  dns: string[];
  ip: string[];
}

/**
 * Where stored files are installed on hosts, as kubeadm's certlist names each file: the target path without its
 * extension (`.crt` and `.key`, or `.pub` and `.key` for a key pair), on which hosts, and whether the private key goes too.
 */
export interface Installation {
  path: string;
  on: 'control-plane' | 'etcd';
  withKey: boolean;
}

/**
 * What renews a stored file when it nears its end: `gen certs renew` (a leaf, from its stored CA, with its key), then
 * `after` (what takes the renewed file into use); or nothing (`by: null`), with why.
 */
export interface Renewal {
  by: 'gen certs renew' | null;
  after: string;
}

/** A certificate authority: self-signed, lives in the secrets folder. */
export interface CaSpec {
  name: string;
  /** What it is for, in words (gen certs prints it). */
  purpose: string;
  renewal: Renewal;
  /** Path stem in the secrets folder: `<stem>.crt` and `<stem>.key`. */
  stem: string;
  commonName: string;
  installed: readonly Installation[];
}

/** A leaf certificate issued by one of the CAs, cluster-wide or one per host. */
export interface LeafSpec {
  name: string;
  /** What it is for, in words (gen certs prints it). */
  purpose: string;
  renewal: Renewal;
  ca: string;
  usages: readonly Usage[];
  /** Hosts that get their own copy; null for a single cluster-wide certificate. */
  perHost: ((model: ClusterModel) => HostModel[]) | null;
  /** Path stem in the secrets folder: the host's copy is `<folder>/<host><suffix>` (a cluster-wide one has no host part). */
  stem: { folder: string; suffix: string } | string;
  /** Where it is installed: each per-host copy on its own host only. */
  installed: readonly Installation[];
  subject: (host: HostModel | null) => { commonName: string; organization?: string };
  sans: (host: HostModel | null) => Sans;
}

/** A bare key pair: `<stem>.key` (private, PKCS#8) and `<stem>.pub` (SPKI). */
export interface KeyPairSpec {
  name: string;
  /** What it is for, in words. */
  purpose: string;
  renewal: Renewal;
  stem: string;
  installed: readonly Installation[];
}

/** kubeadm's folder of certificates on control planes. */
export const KUBERNETES_PKI_DIR = '/etc/kubernetes/pki';
/** Folder of an etcd member's CA, certificates and keys. */
export const ETCD_PKI_DIR = '/etc/etcd/pki';

const onControlPlanes = (name: string): Installation => ({ path: `${KUBERNETES_PKI_DIR}/${name}`, on: 'control-plane', withKey: true });
const onItsMember = (name: string): Installation => ({ path: `${ETCD_PKI_DIR}/${name}`, on: 'etcd', withKey: true });

/** A CA is never renewed or replaced by kubeha: every certificate it signed would stop being trusted. */
const NEVER_A_CA: Renewal = { by: null, after: "kubeha never replaces a CA: a new one needs kubeadm's manual CA rotation" };

/** Kubernetes cluster CA, front-proxy CA and etcd CA, as kubeadm names them. */
export function certificateAuthorities(): readonly CaSpec[] {
  return Object.freeze([
    {
      name: 'ca',
      purpose: "the cluster CA: kubeadm signs the API server's, the kubelets' and the admin certificates with it",
      renewal: NEVER_A_CA,
      stem: 'ca',
      commonName: 'kubernetes',
      installed: [onControlPlanes('ca')],
    },
    {
      name: 'front-proxy-ca',
      purpose: "the front-proxy CA: kubeadm signs the API server's front-proxy client certificate (API aggregation) with it",
      renewal: NEVER_A_CA,
      stem: 'front-proxy-ca',
      commonName: 'front-proxy-ca',
      installed: [onControlPlanes('front-proxy-ca')],
    },
    {
      name: 'etcd-ca',
      purpose: "the etcd CA: signs the members' server and peer certificates and the API servers' etcd client certificate",
      renewal: NEVER_A_CA,
      stem: 'etcd/ca',
      commonName: 'etcd-ca',
      installed: [
        { ...onControlPlanes('etcd/ca'), withKey: false },
        { path: `${ETCD_PKI_DIR}/ca`, on: 'etcd', withKey: false },
      ],
    },
  ]);
}

const memberSans = (host: HostModel | null): Sans => ({
  dns: [host!.name, 'localhost'],
  ip: [host!.address, '127.0.0.1'],
});
const etcdMembers = (model: ClusterModel) => model.hosts.filter((h) => h.isEtcd);

/** An etcd member's own certificate (server or peer: the same usages, subject and SANs), installed on that member. */
function memberLeaf(kind: 'server' | 'peer'): LeafSpec {
  return {
    name: `etcd-${kind}`,
    purpose: kind === 'server' ? "the member's certificate for its clients (the API servers, etcdctl)" : "the member's certificate towards the other members",
    renewal: { by: 'gen certs renew', after: 'run.sh installs it on its member and restarts etcd there' },
    ca: 'etcd-ca',
    usages: ['serverAuth', 'clientAuth'],
    perHost: etcdMembers,
    stem: { folder: 'etcd', suffix: `-${kind}` },
    installed: [onItsMember(kind)],
    subject: (h) => ({ commonName: h!.name }),
    sans: memberSans,
  };
}

/** The leaf certificates: per etcd member a server and a peer certificate, and the API servers' etcd client. */
export function leafCertificates(): readonly LeafSpec[] {
  return Object.freeze([
    memberLeaf('server'),
    memberLeaf('peer'),
    {
      name: 'apiserver-etcd-client',
      purpose: "kube-apiserver's client certificate towards etcd",
      renewal: { by: 'gen certs renew', after: 'run.sh installs it on every control plane and restarts kube-apiserver there' },
      ca: 'etcd-ca',
      usages: ['clientAuth'],
      perHost: null,
      stem: 'apiserver-etcd-client',
      installed: [onControlPlanes('apiserver-etcd-client')],
      subject: () => ({ commonName: 'kube-apiserver-etcd-client' }),
      sans: () => ({ dns: [], ip: [] }),
    },
  ]);
}

/** Key pairs that are not certificates: the service-account signing key. */
export function keyPairs(): readonly KeyPairSpec[] {
  return Object.freeze([
    {
      name: 'sa',
      purpose: 'signs and verifies service-account tokens (kube-apiserver and kube-controller-manager)',
      renewal: { by: null, after: 'kubeha never replaces it: a new pair would invalidate every service-account token' },
      stem: 'sa',
      installed: [onControlPlanes('sa')],
    },
  ]);
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
    return hosts.map((host) => ({ spec, host, stem: leafStem(spec, host?.name ?? null) }));
  });
}

/** Where the certificate (or key pair) of that name is installed on those hosts, without extension; throws when nowhere. */
export function installedPath(name: string, on: Installation['on']): string {
  const spec = [...certificateAuthorities(), ...keyPairs(), ...leafCertificates()].find((s) => s.name === name);
  const at = spec?.installed.find((i) => i.on === on);
  if (!at) throw new Error(`the certificate list installs no "${name}" on ${on} hosts`);
  return at.path;
}

/** A leaf's path stem in the secrets folder, for one host's copy or the cluster-wide one. */
export function leafStem(spec: LeafSpec, host: string | null): string {
  return typeof spec.stem === 'string' ? spec.stem : `${spec.stem.folder}/${host}${spec.stem.suffix}`;
}

/** The spec (and host, for a per-host leaf) a certificate in the secrets folder was issued for; null when none. */
export function storedCertificate(path: string): { spec: CaSpec | LeafSpec; host: string | null } | null {
  const stem = path.replace(/\.crt$/, '');
  const ca = certificateAuthorities().find((c) => c.stem === stem);
  if (ca) return { spec: ca, host: null };
  for (const spec of leafCertificates()) {
    if (typeof spec.stem === 'string') {
      if (spec.stem === stem) return { spec, host: null };
      continue;
    }
    const { folder, suffix } = spec.stem;
    const host = stem.startsWith(`${folder}/`) && stem.endsWith(suffix) ? stem.slice(folder.length + 1, stem.length - suffix.length) : '';
    if (host && !host.includes('/')) return { spec, host };
  }
  return null;
}
