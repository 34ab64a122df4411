/**
 * Makes what the secrets bundle lacks: keys, CAs, leaves, tokens. The only place with randomness and a clock, both
 * injected (IssueDeps): every x509 call is given deps.crypto, and x509's global provider is never set or read.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import type { ClusterModel } from '../model/types.js';
import type { CaSpec, LeafInstance, Usage } from './cert-list.js';
import { DAY_MS } from './inspect.js';
import { TOKEN_PATTERNS, type Tokens } from './secrets.js';

/** The clock and entropy issuing uses, passed in by the caller. */
export interface IssueDeps {
  now: Date;
  crypto: Crypto;
}

export { SecretsError } from './errors.js';

/** Certificates are valid from a little before now, so hosts with a slightly slow clock accept them. */
export const BACKDATE_MS = 5 * 60 * 1000;

type Algorithm = ClusterModel['cluster']['certificates']['keyAlgorithm'];

const KEY_ALGORITHMS = {
  'ecdsa-p256': { gen: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } },
  'rsa-2048': {
    gen: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    sign: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  },
} as const;

/** Makes a self-signed CA: key pair and certificate valid caValidityDays. */
export async function generateCa(spec: CaSpec, model: ClusterModel, deps: IssueDeps): Promise<{ certPem: string; keyPem: string }> {
  const algorithm = model.cluster.certificates.keyAlgorithm;
  const keys = await generateKeys(algorithm, deps.crypto);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial(deps.crypto),
      name: `CN=${spec.commonName}`,
      notBefore: new Date(deps.now.getTime() - BACKDATE_MS),
      notAfter: new Date(deps.now.getTime() + model.cluster.certificates.caValidityDays * DAY_MS),
      keys,
      signingAlgorithm: KEY_ALGORITHMS[algorithm].sign,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, deps.crypto),
      ],
    },
    deps.crypto,
  );
  return { certPem: cert.toString('pem') + '\n', keyPem: await privateKeyPem(keys.privateKey, deps.crypto) };
}

/** Makes a bare key pair (the service-account key): PKCS#8 private and SPKI public PEM. */
export async function generateKeyPair(algorithm: Algorithm, deps: IssueDeps): Promise<{ keyPem: string; publicPem: string }> {
  const keys = await generateKeys(algorithm, deps.crypto);
  return { keyPem: await privateKeyPem(keys.privateKey, deps.crypto), publicPem: await publicKeyPem(keys.publicKey, deps.crypto) };
}

/** Loads a stored CA for signing (ensureSecrets has checked that the key matches). */
export async function loadIssuingCa(certPem: string, keyPem: string, deps: IssueDeps): Promise<IssuingCa> {
  const cert = new x509.X509Certificate(certPem);
  const algorithm = cert.publicKey.algorithm.name === 'ECDSA' ? 'ecdsa-p256' : 'rsa-2048';
  return { cert, key: await importPrivateKey(keyPem, algorithm, deps.crypto) };
}

/** Issues one leaf certificate with a new key from the given CA. */
export async function issueLeaf(leaf: LeafInstance, ca: IssuingCa, model: ClusterModel, deps: IssueDeps): Promise<{ pem: string; keyPem: string }> {
  const keys = await generateKeys(model.cluster.certificates.keyAlgorithm, deps.crypto);
  const notBefore = new Date(deps.now.getTime() - BACKDATE_MS);
  const notAfter = new Date(deps.now.getTime() + model.cluster.certificates.leafValidityDays * DAY_MS);
  const subject = leaf.spec.subject(leaf.host);
  const name = subject.organization ? `CN=${subject.commonName}, O=${subject.organization}` : `CN=${subject.commonName}`;
  const pem = await signLeaf(
    { subject: name, sans: leaf.spec.sans(leaf.host), usages: leaf.spec.usages, publicKey: keys.publicKey, ca, notBefore, notAfter },
    deps,
  );
  return { pem, keyPem: await privateKeyPem(keys.privateKey, deps.crypto) };
}

/** A CA able to sign: its certificate and private key. */
export interface IssuingCa {
  cert: x509.X509Certificate;
  key: CryptoKey;
}

/** What a leaf certificate says; signLeaf turns it into PEM. */
export interface LeafRequest {
  subject: string | x509.Name;
  sans: { dns: string[]; ip: string[] };
  usages: readonly Usage[];
  publicKey: CryptoKey | x509.PublicKey;
  ca: IssuingCa;
  notBefore: Date;
  notAfter: Date;
}

/** Signs a leaf certificate (validity capped at the CA's) and returns its PEM. */
export async function signLeaf(req: LeafRequest, deps: IssueDeps): Promise<string> {
  const names = [...req.sans.dns.map((value) => ({ type: 'dns' as const, value })), ...req.sans.ip.map((value) => ({ type: 'ip' as const, value }))];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(req.usages.map(usageOid), false),
    await x509.AuthorityKeyIdentifierExtension.create(req.ca.cert, false, deps.crypto),
  ];
  if (names.length) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serial(deps.crypto),
      subject: req.subject,
      issuer: req.ca.cert.subjectName,
      notBefore: req.notBefore,
      notAfter: new Date(Math.min(req.notAfter.getTime(), req.ca.cert.notAfter.getTime())),
      publicKey: req.publicKey,
      signingKey: req.ca.key,
      signingAlgorithm: signAlgorithmOf(req.ca.cert),
      extensions,
    },
    deps.crypto,
  );
  return cert.toString('pem') + '\n';
}

function usageOid(usage: Usage): string {
  return usage === 'serverAuth' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth;
}

function signAlgorithmOf(cert: x509.X509Certificate) {
  return cert.publicKey.algorithm.name === 'ECDSA' ? KEY_ALGORITHMS['ecdsa-p256'].sign : KEY_ALGORITHMS['rsa-2048'].sign;
}

async function generateKeys(algorithm: Algorithm, crypto: Crypto): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(KEY_ALGORITHMS[algorithm].gen, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

async function importPrivateKey(pem: string, algorithm: Algorithm, crypto: Crypto): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return crypto.subtle.importKey('pkcs8', der, KEY_ALGORITHMS[algorithm].gen, true, ['sign']);
}

async function privateKeyPem(key: CryptoKey, crypto: Crypto): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY') + '\n';
}

async function publicKeyPem(key: CryptoKey, crypto: Crypto): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey('spki', key), 'PUBLIC KEY') + '\n';
}

function serial(crypto: Crypto): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f; // positive
  bytes[0] = bytes[0]! | 0x01; // no leading zero byte
  return Buffer.from(bytes).toString('hex');
}

const ALPHABET_LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ALPHABET_MIXED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Uniformly random text over an alphabet (rejection sampling, no modulo bias). */
function randomText(crypto: Crypto, alphabet: string, length: number): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < limit && out.length < length) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}

/** Random tokens and passwords, each checked against its pattern. */
export function makeTokens(crypto: Crypto): Tokens {
  const tokens: Tokens = {
    bootstrapToken: `${randomText(crypto, ALPHABET_LOWER, 6)}.${randomText(crypto, ALPHABET_LOWER, 16)}`,
    vrrpPassword: randomText(crypto, ALPHABET_MIXED, 8),
    haproxyStatsPassword: randomText(crypto, ALPHABET_MIXED, 24),
    etcdClusterToken: `etcd-${randomText(crypto, ALPHABET_LOWER, 16)}`,
  };
  for (const [key, pattern] of Object.entries(TOKEN_PATTERNS)) {
    if (!pattern.test(tokens[key as keyof Tokens])) throw new Error(`generated ${key} does not match its pattern`);
  }
  return tokens;
}
