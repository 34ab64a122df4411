/** The CA hash joining nodes check the API server against, computed at generation time from the stored CA. Pure. */
import { createHash, X509Certificate } from 'node:crypto';
import { remembered } from '../common/memo.js';

const caHashes = new Map<string, string>();

/** The `sha256:<hex>` hash of a CA's public key that `kubeadm join --discovery-token-ca-cert-hash` expects (memoised: every joining node asks). */
export function caCertHash(caPem: string): string {
  return remembered(caHashes, caPem, () => {
    const spki = new X509Certificate(caPem).publicKey.export({ type: 'spki', format: 'der' });
    return 'sha256:' + createHash('sha256').update(spki).digest('hex');
  });
}
