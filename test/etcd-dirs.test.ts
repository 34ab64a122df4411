/**
 * The folders run.sh hands to the etcd user (issue 27 item 2): etcd.dataDir and etcd.backup.dir may not be kubeha's own
 * folders (applied-state stamps, bundles, kubeadm markers), nor hold or lie in one, nor be another program's state folder
 * in /var/lib, nor lie where another user may change a folder on the way (/home) or etcd cannot reach (/root).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateInventory } from '../src/inventory/index.js';
import { cleanup, REPO, runCli, tempDir, type InventoryDoc } from './helpers.js';

const RUNBOOK = (): InventoryDoc => JSON.parse(readFileSync(join(REPO, 'examples', 'runbook.json'), 'utf8'));

/** The errors of the runbook with these etcd settings, as `POINTER: message`. */
function errorsWith(etcd: Record<string, unknown>): string[] {
  const doc = RUNBOOK();
  doc.etcd = etcd;
  return validateInventory('inventory.json', JSON.stringify(doc, null, 2)).errors.map((p) => `${p.pointer}: ${p.message}`);
}

const REFUSED: [string, string][] = [
  ['/var/lib/kubeha', "is kubeha's own folder /var/lib/kubeha, which root alone may change"],
  ['/var/lib/kubeha/etcd', "lies inside kubeha's own folder /var/lib/kubeha"],
  ['/var/lib/kubeha/applied', "lies inside kubeha's own folder /var/lib/kubeha"],
  ['/var/lib', 'is a system directory'],
  ['/var/lib/systemd', 'is /var/lib/systemd, the state of another program'],
  ['/var/lib/dpkg/etcd', 'lies inside /var/lib/dpkg, the state of another program'],
  ['/var/lib/kubelet/etcd', 'lies inside /var/lib/kubelet, the state of another program'],
  ['/var/lib/containerd', 'is /var/lib/containerd, the state of another program'],
  ['/var/lib/apt', 'is /var/lib/apt, the state of another program'],
  ['/var/lib/rpm', 'is /var/lib/rpm, the state of another program'],
  ['/var/lib/haproxy', 'is /var/lib/haproxy, the state of another program'],
  ['/var/lib/data/etcd', 'lies inside /var/lib/data, the state of another program'],
  ['/etc', 'is a system directory'],
  ['/etc/kubeha', 'lies inside /etc'],
  ['/root', 'is a system directory'],
  ['/root/etcd', "lies inside /root, which is root's home, closed to the etcd user"],
  ['/home', 'is a system directory'],
  ['/home/etcd', "lies inside /home, which holds the users' home folders"],
  ['/home/alice/etcd', "lies inside /home, which holds the users' home folders"],
  ['/usr/local/lib/kubeha', 'lies inside /usr'],
  ['/boot/etcd', 'lies inside /boot'],
  ['/run/etcd', 'lies inside /run'],
  ['/tmp/etcd', 'lies inside /tmp'],
  ['/var/tmp/etcd', 'lies inside /var/tmp'],
  ['/var/log/kubeha', 'lies inside /var/log'],
  ['/var/cache/kubeha', 'lies inside /var/cache'],
  ['/media/usb/etcd', 'lies inside /media'],
  ['/var/mail/etcd', 'lies inside /var/mail'],
];

const ACCEPTED = [
  '/var/lib/etcd',
  '/var/lib/etcd-main',
  '/var/lib/etcd2/data',
  '/srv/etcd',
  '/data/etcd',
  '/mnt/disk1/etcd',
  '/opt/etcd/data',
  '/var/opt/etcd',
];

test("etcd.dataDir: kubeha's folders, /var/lib's other programs, homes and the like are refused at /etcd/dataDir; folders of etcd's own are not", () => {
  for (const [dir, why] of REFUSED) {
    const errors = errorsWith({ dataDir: dir, backup: { dir: '/backup/etcd' } });
    assert.equal(errors.length, 1, `${dir}: ${errors.join('; ')}`);
    assert.ok(errors[0]!.startsWith(`/etcd/dataDir: ${dir} ${why}`), `${dir}: ${errors[0]}`);
  }
  for (const dir of ACCEPTED) assert.equal(errorsWith({ dataDir: dir, backup: { dir: '/backup/etcd' } }), [], dir);
});

test('etcd.backup.dir: the same folders are refused at /etcd/backup/dir', () => {
  for (const [dir, why] of REFUSED) {
    const errors = errorsWith({ backup: { dir } });
    assert.equal(errors.length, 1, `${dir}: ${errors.join('; ')}`);
    assert.ok(errors[0]!.startsWith(`/etcd/backup/dir: ${dir} ${why}`), `${dir}: ${errors[0]}`);
  }
  for (const dir of ACCEPTED.filter((d) => d !== '/var/lib/etcd')) assert.equal(errorsWith({ backup: { dir } }), [], dir);
});

test('gen validate names the file and both pointers, exit 1', async () => {
  const dir = tempDir();
  try {
    const doc = RUNBOOK();
    doc.etcd = { dataDir: '/var/lib/kubeha', backup: { dir: '/var/lib/kubeha/backups' } };
    writeFileSync(join(dir, 'inventory.json'), JSON.stringify(doc, null, 2));
    const r = await runCli(['validate', join(dir, 'inventory.json')]);
    assert.is(r.code, 1);
    assert.match(r.err, /inventory\.json \/etcd\/dataDir: \/var\/lib\/kubeha is kubeha's own folder \/var\/lib\/kubeha/);
    assert.match(r.err, /inventory\.json \/etcd\/backup\/dir: \/var\/lib\/kubeha\/backups lies inside kubeha's own folder \/var\/lib\/kubeha/);
  } finally {
    cleanup(dir);
  }
});

test.run();
