/** Command-line parsing: commands, their options, and usage texts. */
import { parseArgs } from 'node:util';
import { folderClash, normaliseFolder } from './folders.js';

/** A wrong command line: prints the message and exits 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The commands of gen. */
export type Command = 'gen' | 'validate' | 'plan' | 'diff' | 'check' | 'certs' | 'renew' | 'artifacts';

/** A parsed command line. */
export interface Invocation {
  command: Command;
  inventory: string | null;
  out: string;
  secrets: string;
  help: boolean;
  quiet: boolean;
  json: boolean;
  withinDays: number;
  /** --force-version-change: do not refuse a version change against the previous output (or one that cannot be read). */
  forceVersionChange: boolean;
  /** gen plan --format: the plan as text (default), or the cluster's picture as SVG or Mermaid. */
  format: PlanFormat;
}

/** The forms gen plan prints. */
export const PLAN_FORMATS = ['text', 'svg', 'mermaid'] as const;
/** A form gen plan prints. */
export type PlanFormat = (typeof PLAN_FORMATS)[number];

const MAIN_USAGE = `Usage: gen INVENTORY [--out DIR] [--secrets DIR] [--check] [--json] [--quiet] [--force-version-change]
       gen validate INVENTORY
       gen plan INVENTORY [--out DIR] [--format text|svg|mermaid]
       gen diff INVENTORY [--out DIR] [--secrets DIR]
       gen check INVENTORY [--out DIR] [--secrets DIR]
       gen certs [--secrets DIR]
       gen certs renew [--within DAYS] [--secrets DIR]
       gen artifacts INVENTORY [--json]

Compiles an inventory (JSON or YAML) into one tarball per host for a highly available kubeadm cluster.

Commands:
  gen INVENTORY       write DIR/<host>.tar.gz for every host and DIR/SHA256SUMS (default DIR: out),
                      DIR/ansible/{inventory.ini,site.yml}: ansible-playbook rolls them out in plan order,
                      and DIR/cluster.svg: the picture of the cluster
  validate INVENTORY  check the inventory only; write nothing
  plan INVENTORY      print hosts x roles x services and the order to run the bundles in (or, with
                      --format svg|mermaid, the picture of the cluster)
  diff INVENTORY      show what a new generation would change in DIR, per host and file; write nothing
  check INVENTORY     exit 1 when DIR is not exactly what INVENTORY and the secrets produce (for CI)
  certs               list the stored certificates, their hosts, SANs and expiry
  certs renew         re-issue leaf certificates expiring within DAYS (default 30) from the stored CAs
  artifacts INVENTORY every download (with its SHA-256), package repository and container image: what to mirror

Options:
  --out DIR       output folder (default: out)
  --secrets DIR   secrets folder: CAs, keys, tokens; made once, reused on every run (default: secrets)
  --check         same as the check command
  --format FORM   with plan: text (default), svg or mermaid
  --within DAYS   with certs renew: renew what expires within DAYS days (default 30)
  --force-version-change
                  with gen, plan, diff, check: go ahead when the Kubernetes version of the bundles in DIR
                  cannot be read, or is refused (a skipped minor, a downgrade); only for a new cluster or
                  one you know runs at most one minor below
  --json          print a JSON document instead of text
  --quiet         print errors only
  -h, --help      show help for a command

Exit status: 0 ok, 1 invalid input or failed check, 2 usage error.
`;

/** Usage text of each command. */
export const USAGE: Record<Command, string> = {
  gen: MAIN_USAGE,
  validate: `Usage: gen validate INVENTORY [--json]

Checks INVENTORY against the schema and kubeha's rules and prints every problem as
FILE POINTER: message. Writes nothing. Exit status 0 when valid (warnings allowed), 1 otherwise.
`,
  plan: `Usage: gen plan INVENTORY [--out DIR] [--json | --format text|svg|mermaid] [--force-version-change]

Prints every host with its roles, the kubeadm action and the services it runs, then the order
in which to run the bundles. When DIR (default: out) holds bundles of an older Kubernetes version,
also the upgrade order; a skipped minor or a downgrade is refused, as is DIR holding bundles of
the inventory's hosts whose version cannot be read (--force-version-change goes ahead). Writes nothing.

--format svg prints the picture of the cluster gen writes as DIR/cluster.svg: the VIP and the load
balancers holding it, haproxy's arrows to each API server's 6443, the etcd members' ring, the workers,
the ranges, versions and the rollout order. --format mermaid prints the same as a Mermaid flowchart.
`,
  diff: `Usage: gen diff INVENTORY [--out DIR] [--secrets DIR] [--json]

Shows what generating INVENTORY would change against the tarballs in DIR (default: out): hosts
added, removed or changed; per file added, removed or changed, a unified diff for text, fingerprint
and expiry for certificates. Private keys show only as changed; tokens and passwords are redacted.
Writes nothing, not even missing secrets.
`,
  check: `Usage: gen check INVENTORY [--out DIR] [--secrets DIR] [--json]

Exit status 0 when DIR (default: out) holds exactly the tarballs INVENTORY and the secrets produce,
1 otherwise (with what differs). Writes nothing. Meant for CI.
`,
  certs: `Usage: gen certs [--secrets DIR] [--json]
       gen certs renew [--within DAYS] [--secrets DIR]

Lists every certificate in the secrets folder (default: secrets) with its subject, hosts, SANs
and expiry, and warns about those that expire within 30 days. Writes nothing.
`,
  artifacts: `Usage: gen artifacts INVENTORY [--json]

Lists what the cluster downloads, after the inventory's mirrors: every file run.sh fetches with its
SHA-256, every package repository with its signing key, and every container image (control plane,
kube-proxy, coredns, pause, flannel) as the generated configs name it, with its upstream source.
Fill a mirror from it before going offline. Writes nothing.
`,
  renew: `Usage: gen certs renew [--within DAYS] [--secrets DIR]

Re-issues every leaf certificate that expires within DAYS days (default 30) from the stored CAs,
keeping its subject, SANs, usages and key. CAs are never renewed. Then run gen again: the new
bundles install the renewed certificates and restart only the services that use them.
`,
};

const SUBCOMMANDS = new Set<string>(['validate', 'plan', 'diff', 'check', 'certs', 'artifacts']);

/** The options every command accepts (each command checks which of them it uses). */
const OPTIONS = {
  out: { type: 'string' },
  secrets: { type: 'string' },
  check: { type: 'boolean' },
  within: { type: 'string' },
  format: { type: 'string' },
  'force-version-change': { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; strict: true; options: typeof OPTIONS }>>['values'];

/** The command argv names and the arguments after it (`certs renew` is one command). */
function commandOf(argv: readonly string[]): { command: Command; rest: string[] } {
  const first = argv[0];
  if (first === undefined || !SUBCOMMANDS.has(first)) return { command: 'gen', rest: [...argv] };
  if (first === 'certs' && argv[1] === 'renew') return { command: 'renew', rest: argv.slice(2) };
  return { command: first as Command, rest: argv.slice(1) };
}

/** Parses argv (without node and the script). */
export function parseCommandLine(argv: readonly string[]): Invocation {
  let { command, rest } = commandOf(argv);
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: rest, allowPositionals: true, strict: true, options: OPTIONS });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]!, USAGE[command]);
  }
  const { values, positionals } = parsed;
  if (values.check && command === 'gen') command = 'check';
  else if (values.check) throw new UsageError('--check goes with gen INVENTORY', USAGE[command]);
  const invocation: Invocation = {
    command,
    inventory: positionals[0] ?? null,
    out: folderOption('out', values.out, command),
    secrets: folderOption('secrets', values.secrets, command),
    help: values.help ?? false,
    quiet: values.quiet ?? false,
    json: values.json ?? false,
    withinDays: 30,
    forceVersionChange: values['force-version-change'] ?? false,
    format: 'text',
  };
  if (invocation.help) return invocation;
  refuseMisplaced(command, values, positionals);
  if (values.within !== undefined) invocation.withinDays = Number(values.within);
  if (values.format !== undefined) invocation.format = values.format as PlanFormat;
  return invocation;
}

/** A UsageError for an argument or option the command does not take, or a value it cannot use. */
function refuseMisplaced(command: Command, values: Values, positionals: readonly string[]): void {
  const wrong = (message: string) => new UsageError(message, USAGE[command]);
  const takesInventory = command !== 'certs' && command !== 'renew';
  if (takesInventory && positionals.length !== 1) throw wrong(positionals.length === 0 ? 'missing INVENTORY' : `unexpected argument ${positionals[1]}`);
  if (!takesInventory && positionals.length > 0) throw wrong(`unexpected argument ${positionals[0]}`);
  if (
    (command === 'validate' && values.out !== undefined) ||
    ((command === 'validate' || command === 'plan' || command === 'artifacts') && values.secrets !== undefined)
  ) {
    throw wrong(`gen ${command} takes no ${command === 'validate' ? '--out or --secrets' : '--secrets'}`);
  }
  if ((command === 'certs' || command === 'renew') && values.out !== undefined) throw wrong(`gen certs takes no --out`);
  if (command === 'gen' || command === 'diff' || command === 'check') {
    const clash = folderClash(
      { given: values.out ?? 'out', path: folderOption('out', values.out, command) },
      { given: values.secrets ?? 'secrets', path: folderOption('secrets', values.secrets, command) },
    );
    if (clash) throw wrong(clash);
  }
  if (values['force-version-change'] && !['gen', 'plan', 'diff', 'check'].includes(command))
    throw wrong('--force-version-change goes with gen, plan, diff and check');
  if (values.format !== undefined) {
    if (command !== 'plan') throw wrong('--format goes with gen plan');
    if (!(PLAN_FORMATS as readonly string[]).includes(values.format)) throw wrong(`--format takes ${PLAN_FORMATS.join(', ')}, not ${values.format}`);
    if (values.json) throw wrong('--json and --format: choose one');
  }
  if (values.within !== undefined) {
    if (command !== 'renew') throw wrong('--within goes with gen certs renew');
    if (!/^[0-9]{1,5}$/.test(values.within)) throw wrong(`--within takes a whole number of days, not ${values.within}`);
  }
}

/** A folder option, normalised (`out/` is `out`); a UsageError for one kubeha cannot replace as a whole (`.`, `/`, `..`). */
function folderOption(name: 'out' | 'secrets', value: string | undefined, command: Command): string {
  if (value === undefined) return name;
  const folder = normaliseFolder(value);
  if (folder === null) throw new UsageError(`--${name} ${value} cannot be replaced as a whole: name a folder of its own (such as ${name})`, USAGE[command]);
  return folder;
}
