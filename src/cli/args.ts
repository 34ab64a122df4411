/** Command-line parsing: commands, their options, and usage texts. */
import { parseArgs } from 'node:util';

/** A wrong command line: prints the message and exits 2. */
export class UsageError extends Error {
  constructor(message: string, readonly usage: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The commands of gen. */
export type Command = 'gen' | 'validate' | 'plan' | 'certs';

/** A parsed command line. */
export interface Invocation {
  command: Command;
  inventory: string | null;
  out: string;
  secrets: string;
  help: boolean;
  quiet: boolean;
}

const MAIN_USAGE = `Usage: gen INVENTORY [--out DIR] [--secrets DIR] [--quiet]
       gen validate INVENTORY
       gen plan INVENTORY
       gen certs [--secrets DIR]

Compiles an inventory (JSON or YAML) into one tarball per host for a highly available kubeadm cluster.

Commands:
  gen INVENTORY       write DIR/<host>.tar.gz for every host and DIR/SHA256SUMS (default DIR: out)
  validate INVENTORY  check the inventory only; write nothing
  plan INVENTORY      print hosts x roles x services and the order to run the bundles in
  certs               list the stored certificates, their hosts, SANs and expiry

Options:
  --out DIR       output folder (default: out)
  --secrets DIR   secrets folder: CAs, keys, tokens; made once, reused on every run (default: secrets)
  --quiet         print errors only
  -h, --help      show help for a command

Exit status: 0 ok, 1 invalid input or failed check, 2 usage error.
`;

/** Usage text of each command. */
export const USAGE: Record<Command, string> = {
  gen: MAIN_USAGE,
  validate: `Usage: gen validate INVENTORY

Checks INVENTORY against the schema and kubeha's rules and prints every problem as
FILE POINTER: message. Writes nothing. Exit status 0 when valid (warnings allowed), 1 otherwise.
`,
  plan: `Usage: gen plan INVENTORY

Prints every host with its roles, the kubeadm action and the services it runs, then the order
in which to run the bundles. Writes nothing.
`,
  certs: `Usage: gen certs [--secrets DIR]

Lists every certificate in the secrets folder (default: secrets) with its subject, hosts, SANs
and expiry, and warns about those that expire within 30 days. Writes nothing.
`,
};

const COMMANDS = new Set<string>(['validate', 'plan', 'certs']);

/** Parses argv (without node and the script). */
export function parseCommandLine(argv: readonly string[]): Invocation {
  const command: Command = argv[0] !== undefined && COMMANDS.has(argv[0]) ? (argv[0] as Command) : 'gen';
  const rest = command === 'gen' ? [...argv] : argv.slice(1);
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        out: { type: 'string' },
        secrets: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]!, USAGE[command]);
  }
  const { values, positionals } = parsed;
  const invocation: Invocation = {
    command,
    inventory: positionals[0] ?? null,
    out: values.out ?? 'out',
    secrets: values.secrets ?? 'secrets',
    help: values.help ?? false,
    quiet: values.quiet ?? false,
  };
  if (invocation.help) return invocation;
  if (command !== 'certs' && positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? 'missing INVENTORY' : `unexpected argument ${positionals[1]}`, USAGE[command]);
  }
  if (command === 'certs' && positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`, USAGE[command]);
  if (command !== 'gen' && command !== 'certs' && (values.out !== undefined || values.secrets !== undefined)) {
    throw new UsageError(`gen ${command} takes no --out or --secrets`, USAGE[command]);
  }
  return invocation;
}
