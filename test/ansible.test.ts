/**
 * The Ansible rollout (out/ansible/): plays in plan order with the right batches, checked by Ansible's own tools
 * (ansible-inventory, ansible-playbook --syntax-check, ansible-lint), and run for real against this machine with
 * connection=local under --check (copy, SHA256SUMS check, unpack, run.sh --dry-run; a real run.sh needs its own host).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../src/index.js';
import { cleanup, modelOf, NAMESPACES, runCli, TEMPLATES, tempDir, testNeeding, type InventoryDoc } from './helpers.js';

/** Three etcd members, two load balancers, three control planes and five workers; Ansible settings from the inventory. */
function fleet(ansible: object = {}): InventoryDoc {
  const host = (name: string, n: number, roles: string[]) => ({ name, address: `198.51.100.${n}`, roles });
  return {
    cluster: { name: 'fleet', kubernetesVersion: '1.34.2', podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/16' },
    loadBalancer: { vip: '198.51.100.100' },
    ansible,
    hosts: [
      ...[1, 2, 3].map((i) => host(`etcd${i}`, 10 + i, ['etcd'])),
      ...[1, 2].map((i) => host(`lb${i}`, 20 + i, ['loadbalancer'])),
      ...[1, 2, 3].map((i) => host(`cp${i}`, 30 + i, ['control-plane'])),
      ...[1, 2, 3, 4, 5].map((i) => host(`w${i}`, 40 + i, ['worker'])),
    ],
  };
}

/** The rollout files of an inventory, by name (inventory.ini, site.yml). */
function rolloutOf(doc: InventoryDoc): Map<string, string> {
  // The rollout reads no secret: an empty bundle compiles it.
  const compiled = compile(modelOf(doc), { secrets: { files: new Map(), tokens: null }, templates: TEMPLATES });
  return new Map(compiled.rollout().map((f) => [f.path.replace(/^ansible\//, ''), f.bytes.toString('utf8')]));
}

/** Runs an Ansible command with plain output. */
function ansible(cmd: string, args: string[], cwd?: string) {
  const env = { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0', ANSIBLE_HOST_KEY_CHECKING: 'False', ANSIBLE_LOCALHOST_WARNING: 'False' };
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd, env, timeout: 600_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

test('site.yml: plays in plan order; etcd, load balancers and control planes one at a time, workers in batches; any error stops all', () => {
  const files = rolloutOf(fleet({ workerBatch: '2' }));
  const plays = load(files.get('site.yml')!) as Record<string, unknown>[];
  assert.equal(
    plays.map((p) => [p.name, p.hosts, p.serial ?? 'all']),
    [
      // A new etcd cluster's members start together (quorum); a member that ran before goes alone.
      ['Step 1 of 5: etcd members, first start of the members together', 'kubeha_step1', 'all'],
      ['Step 1 of 5: etcd members, one at a time', 'kubeha_step1', 1],
      ['Step 2 of 5: load balancers', 'kubeha_step2', 1],
      ['Step 3 of 5: first control plane (kubeadm init)', 'kubeha_step3', 1],
      ['Step 4 of 5: other control planes (kubeadm join --control-plane)', 'kubeha_step4', 1],
      ['Step 5 of 5: workers (kubeadm join)', 'kubeha_step5', "{{ kubeha_worker_batch | default('2') }}"],
    ],
  );
  const tasks = (i: number) => plays[i]!.tasks as Record<string, unknown>[];
  const runs = (i: number) => tasks(i).find((t) => 'ansible.builtin.command' in t)!;
  assert.equal(tasks(0).find((t) => 'ansible.builtin.stat' in t && t.register === 'kubeha_etcd_data')!['ansible.builtin.stat'], {
    path: '/var/lib/etcd/member',
    get_checksum: false,
  });
  assert.is(runs(0).when, 'not kubeha_etcd_data.stat.exists', 'together: the members without data');
  assert.is(runs(1).when, 'kubeha_run is not defined or kubeha_run is skipped', 'alone: every member the first play did not run');
  assert.equal(tasks(1), [runs(1)], 'the second play only runs run.sh (the bundle is staged)');
  // Whatever roles a host combines: an etcd member that is also a control plane and a worker goes alone after its first start.
  const stacked = rolloutOf({
    ...fleet(),
    loadBalancer: undefined,
    hosts: [{ name: 'one', address: '127.0.1.1', roles: ['control-plane', 'etcd', 'worker'] }],
  });
  assert.equal(
    (load(stacked.get('site.yml')!) as Record<string, unknown>[]).map((p) => p.serial ?? 'all'),
    ['all', 1],
  );
  // Adding members to a running cluster (initialClusterState existing): every member alone, in one play.
  const joining = load(rolloutOf({ ...fleet(), etcd: { initialClusterState: 'existing' } }).get('site.yml')!) as Record<string, unknown>[];
  assert.equal([joining[0]!.name, joining[0]!.serial], ['Step 1 of 5: etcd members', 1]);
  for (const play of plays) {
    assert.is(play.any_errors_fatal, true, `${play.name}: the first failed host stops the rollout`);
    const modules = (play.tasks as Record<string, unknown>[]).flatMap((t) => Object.keys(t).filter((k) => k.includes('.')));
    assert.ok(
      modules.every((m) => m.startsWith('ansible.builtin.')),
      `builtin modules only: ${modules.join(', ')}`,
    );
  }
  const run = (plays[2]!.tasks as Record<string, unknown>[]).find((t) => 'ansible.builtin.command' in t)!;
  assert.is(run.changed_when, "kubeha_run.stdout_lines[-1:] != ['kubeha: changed=0']");
  assert.is(run.check_mode, false, 'under --check run.sh still runs, with --dry-run');
  assert.is(rolloutOf(fleet()).get('site.yml')!.includes("default('20%')"), true, 'workers go 20 % at a time by default');
});

testNeeding(
  ['ansible-inventory'],
  "inventory.ini: ansible-inventory reads every host at its address, in its step and role groups, with the inventory's user and become",
  () => {
    const dir = tempDir();
    try {
      for (const [ansibleKeys, user, become] of [
        [{}, undefined, true],
        [{ user: 'admin', become: false }, 'admin', false],
      ] as const) {
        writeFileSync(join(dir, 'inventory.ini'), rolloutOf(fleet(ansibleKeys)).get('inventory.ini')!);
        const r = ansible('ansible-inventory', ['-i', join(dir, 'inventory.ini'), '--list']);
        assert.is(r.code, 0, r.out);
        const inv = JSON.parse(r.out.slice(r.out.indexOf('{')));
        assert.equal(inv.kubeha_step4.hosts, ['cp2', 'cp3']);
        assert.equal(inv.kubeha_step5.hosts, ['w1', 'w2', 'w3', 'w4', 'w5']);
        assert.equal(inv.kubeha_control_plane.hosts, ['cp1', 'cp2', 'cp3']);
        const vars = inv._meta.hostvars.w3;
        assert.is(vars.ansible_host, '198.51.100.43');
        assert.is(vars.ansible_user, user);
        assert.is(vars.ansible_become, String(become), 'a [all:vars] value is a string; Ansible reads it as a boolean');
        assert.is(vars.kubeha_remote_dir, '/var/lib/kubeha/bundles');
      }
    } finally {
      cleanup(dir);
    }
  },
);

testNeeding(['ansible-playbook', 'ansible-lint'], 'ansible-playbook --syntax-check and ansible-lint accept the playbooks of three clusters', () => {
  const dir = tempDir();
  try {
    const docs = [
      fleet(),
      fleet({ user: 'ops', become: true, workerBatch: '10' }),
      { ...fleet(), loadBalancer: undefined, hosts: [{ name: 'one', address: '127.0.1.1', roles: ['control-plane', 'etcd', 'worker'] }] },
    ];
    for (const [i, doc] of docs.entries()) {
      const files = rolloutOf(doc);
      for (const [name, text] of files) writeFileSync(join(dir, name), text);
      const syntax = ansible('ansible-playbook', ['--syntax-check', '-i', 'inventory.ini', 'site.yml'], dir);
      assert.is(syntax.code, 0, `cluster ${i}: ${syntax.out}`);
      const started = Date.now();
      const lint = ansible('ansible-lint', ['--nocolor', '--offline', 'site.yml'], dir);
      assert.is(lint.code, 0, `cluster ${i}: ${lint.out}`);
      if (i === 0) console.log(`  ansible-lint: ${Date.now() - started} ms`);
    }
  } finally {
    cleanup(dir);
  }
});

testNeeding(
  ['ansible-playbook'],
  'a real ansible-playbook --check on this machine (connection=local): staged, checked, dry-run; idempotent staging; a bad checksum stops the rollout',
  async () => {
    const dir = tempDir();
    try {
      // Kubernetes 1.30 with distro etcd: this machine's etcd (Debian 12: 3.4.23) is older than the 3.5.11 kubeadm needs
      // from 1.31 on, which run.sh refuses even in a dry run.
      const doc = {
        cluster: { name: 'local', kubernetesVersion: '1.30.14', podSubnet: '10.244.0.0/16' },
        etcd: { install: 'distro' },
        hosts: [
          { name: 'member1', address: '127.0.1.1', roles: ['etcd'] },
          { name: 'plane1', address: '127.0.1.2', roles: ['control-plane'] },
        ],
      };
      writeFileSync(join(dir, 'inventory.json'), JSON.stringify(doc));
      const out = join(dir, 'out');
      const gen = await runCli([join(dir, 'inventory.json'), '--out', out, '--secrets', join(dir, 'secrets'), '--quiet']);
      assert.is(gen.code, 0, gen.err);
      const remote = join(dir, 'remote');
      // Every host is this machine; the bundles land in a temp folder; no sudo (the test runs as whoever runs it).
      const playbook = (...extra: string[]) =>
        ansible('ansible-playbook', [
          '-i',
          join(out, 'ansible', 'inventory.ini'),
          join(out, 'ansible', 'site.yml'),
          '--check',
          '-e',
          'ansible_connection=local',
          '-e',
          'ansible_become=false',
          '-e',
          `kubeha_remote_dir=${remote}`,
          '-e',
          'ansible_python_interpreter=auto_silent',
          ...extra,
        ]);

      const first = playbook();
      assert.is(first.code, 0, first.out);
      assert.match(first.out, /member1 +: ok=\d+ +changed=[1-9]/);
      assert.match(first.out, /plane1 +: ok=\d+ +changed=[1-9]/);
      assert.match(first.out, /"\+ install -m 0600 \/etc\/etcd\/pki\/server.key"/, 'the handler shows what run.sh --dry-run would do');
      assert.match(first.out, '"kubeha: changed=');
      assert.ok(readFileSync(join(remote, 'member1.tar.gz')).equals(readFileSync(join(out, 'member1.tar.gz'))), 'the tarball arrived intact');
      assert.ok(existsSync(join(remote, 'plane1', 'run.sh')), 'the bundle was unpacked');

      // Copy, check and unpack again: nothing changes on either host.
      const again = playbook('--tags', 'kubeha_bundle');
      assert.is(again.code, 0, again.out);
      assert.match(again.out, /member1 +: ok=5 +changed=0 +unreachable=0 +failed=0/);
      assert.match(again.out, /plane1 +: ok=5 +changed=0 +unreachable=0 +failed=0/);

      // A tarball that does not match SHA256SUMS stops the rollout at its host: the next step never starts.
      const sums = join(out, 'SHA256SUMS');
      writeFileSync(sums, readFileSync(sums, 'utf8').replace(/^[0-9a-f]{64}(?= {2}member1\.tar\.gz$)/m, '0'.repeat(64)));
      const bad = playbook();
      assert.is(bad.code, 2, bad.out);
      assert.match(
        bad.out,
        `The copied bundle has SHA-256 ${createHash('sha256')
          .update(readFileSync(join(out, 'member1.tar.gz')))
          .digest('hex')}`,
      );
      assert.match(bad.out, `SHA256SUMS says ${'0'.repeat(64)}`);
      assert.match(bad.out, /member1 +: ok=\d+ +changed=0 +unreachable=0 +failed=1/);
      assert.not.match(bad.out, 'Step 2 of 2', 'the control plane step did not start');
      assert.not.match(bad.out, /plane1 +: ok/);
    } finally {
      cleanup(dir);
    }
  },
);

testNeeding(
  ['ansible-playbook', NAMESPACES],
  'a real ansible-playbook --check: new etcd members run together in the first play; members with data run one at a time in the second',
  async () => {
    const dir = tempDir();
    try {
      // Two members and a control plane, all this machine (connection=local); /srv is a private tmpfs, so the test
      // decides whether the data dir /srv/etcd holds member/. Kubernetes 1.30 with distro etcd: see the test above.
      const doc = {
        cluster: { name: 'local', kubernetesVersion: '1.30.14', podSubnet: '10.244.0.0/16' },
        etcd: { install: 'distro', dataDir: '/srv/etcd' },
        hosts: [
          { name: 'member1', address: '127.0.1.1', roles: ['etcd'] },
          { name: 'member2', address: '127.0.1.3', roles: ['etcd'] },
          { name: 'plane1', address: '127.0.1.2', roles: ['control-plane'] },
        ],
      };
      writeFileSync(join(dir, 'inventory.json'), JSON.stringify(doc));
      const out = join(dir, 'out');
      const gen = await runCli([join(dir, 'inventory.json'), '--out', out, '--secrets', join(dir, 'secrets'), '--quiet']);
      assert.is(gen.code, 0, gen.err);
      const playbook = (data: boolean) => {
        const args = [
          ...['-i', join(out, 'ansible', 'inventory.ini'), join(out, 'ansible', 'site.yml'), '--check', '--limit', 'member1,member2'],
          ...['-e', 'ansible_connection=local', '-e', 'ansible_become=false', '-e', `kubeha_remote_dir=${join(dir, 'remote')}`],
          ...['-e', 'ansible_python_interpreter=auto_silent'],
        ];
        const setup = `mount --make-rprivate / && mount -t tmpfs -o mode=0755 tmpfs /srv${data ? ' && mkdir -p /srv/etcd/member' : ''}`;
        return ansible('unshare', ['-m', 'sh', '-c', `${setup} && exec ansible-playbook "$@"`, 'sh', ...args]);
      };
      // Per play (the PLAY header names it; with serial 1, once per batch): the hosts whose run.sh ran (changed).
      const runsIn = (output: string) =>
        output
          .split(/^PLAY \[/m)
          .slice(1)
          .map((play) => {
            const task = play.slice(play.indexOf('TASK [Run run.sh') + 'TASK ['.length).split(/^(?:TASK|RUNNING HANDLER) \[/m)[0]!;
            const ran = [...task.matchAll(/^changed: \[(member\d)\]/gm)].map((m) => m[1]).sort();
            return `${play.slice(0, play.indexOf(']'))}: ${ran.join(' ')}`;
          });
      const fresh = playbook(false);
      assert.is(fresh.code, 0, fresh.out);
      assert.equal(runsIn(fresh.out).slice(0, 2), [
        'Step 1 of 2: etcd members, first start of the members together: member1 member2',
        'Step 1 of 2: etcd members, one at a time: ',
      ]);
      const old = playbook(true);
      assert.is(old.code, 0, old.out);
      assert.equal(runsIn(old.out).slice(0, 3), [
        'Step 1 of 2: etcd members, first start of the members together: ',
        'Step 1 of 2: etcd members, one at a time: member1',
        'Step 1 of 2: etcd members, one at a time: member2',
      ]);
    } finally {
      cleanup(dir);
    }
  },
);

test('gen check and gen diff cover out/ansible: an edited playbook is stale and shown', async () => {
  const dir = tempDir();
  try {
    const inventory = join(dir, 'fleet.json');
    writeFileSync(inventory, JSON.stringify(fleet()));
    const args = ['--out', join(dir, 'out'), '--secrets', join(dir, 'secrets')];
    assert.is((await runCli([inventory, ...args, '--quiet'])).code, 0);
    assert.is((await runCli(['check', inventory, ...args])).code, 0);
    const site = join(dir, 'out', 'ansible', 'site.yml');
    writeFileSync(site, readFileSync(site, 'utf8').replace('any_errors_fatal: true', 'any_errors_fatal: false'));
    const check = await runCli(['check', inventory, ...args]);
    assert.is(check.code, 1);
    assert.match(check.err, '  ansible/site.yml: differs');
    const diff = await runCli(['diff', inventory, ...args]);
    assert.is(diff.code, 0, diff.err);
    assert.match(diff.out, `${join(dir, 'out', 'ansible')}: changed\n  ~ ansible/site.yml\n`);
    assert.match(diff.out, '-  any_errors_fatal: false\n');
    assert.match(diff.out, '0 hosts added, 0 removed, 0 changed, 13 unchanged');
    assert.is((await runCli([inventory, ...args, '--quiet'])).code, 0);
    assert.is((await runCli(['check', inventory, ...args])).code, 0, 'gen writes it back');
  } finally {
    cleanup(dir);
  }
});

test.run();
