/**
 * An unset kubeProxyMode follows the Kubernetes version (nftables from 1.33); it used to be ipvs. A cluster made with
 * the old default must not switch modes unannounced at its next upgrade: gen and gen plan warn, at the key, when the
 * previous output's first control plane runs another mode, and say how to keep it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanup, REPO, runCli, tempDir, withoutEndOfLife } from './helpers.js';

const runbook = () => JSON.parse(readFileSync(join(REPO, 'examples', 'runbook.json'), 'utf8'));

test('gen and gen plan warn when the previous output runs kube-proxy in another mode; nothing when the mode is kept', async () => {
  const dir = tempDir();
  try {
    const file = join(dir, 'inventory.json');
    const [out, secrets] = [join(dir, 'out'), join(dir, 'secrets')];
    const doc = runbook();
    doc.cluster.kubeProxyMode = 'ipvs'; // what an unset mode gave before
    writeFileSync(file, JSON.stringify(doc));
    const first = await runCli([file, '--out', out, '--secrets', secrets, '--quiet']);
    assert.is(first.code, 0, first.err);
    assert.is(withoutEndOfLife(first.err), '');
    delete doc.cluster.kubeProxyMode;
    writeFileSync(file, JSON.stringify(doc));
    const expected =
      `${file} /cluster/kubeProxyMode: warning: the previous output (${out}/worker1.tar.gz) runs kube-proxy in ipvs mode and this inventory gives nftables ` +
      '(an unset mode follows the Kubernetes version: nftables from 1.33, iptables before; it used to be ipvs): kube-proxy switches to nftables at the next ' +
      'upgrade and new nodes are prepared for nftables only; to keep the running mode, set cluster.kubeProxyMode: ipvs\n';
    const plan = await runCli(['plan', file, '--out', out]);
    assert.is(plan.code, 0, plan.err);
    assert.is(withoutEndOfLife(plan.err), expected);
    const gen = await runCli([file, '--out', out, '--secrets', secrets, '--quiet']);
    assert.is(gen.code, 0, gen.err);
    assert.is(withoutEndOfLife(gen.err), expected);
    // The output now runs nftables: the same inventory again has nothing to say.
    const again = await runCli([file, '--out', out, '--secrets', secrets, '--quiet']);
    assert.is(withoutEndOfLife(again.err), '');
  } finally {
    cleanup(dir);
  }
});

test.run();
