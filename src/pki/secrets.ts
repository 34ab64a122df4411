/** The secrets bundle: PEM files by path in the secrets folder, plus random tokens and passwords. */

/** Random values that are not key material. */
export interface Tokens {
  /** kubeadm bootstrap token, `[a-z0-9]{6}.[a-z0-9]{16}`. */
  bootstrapToken: string;
  /** keepalived auth_pass, 8 characters (keepalived's limit). */
  vrrpPassword: string;
  /** Password of the haproxy stats page. */
  haproxyStatsPassword: string;
  /** etcd --initial-cluster-token. */
  etcdClusterToken: string;
}

/** Everything secret that compile reads. */
export interface Secrets {
  /** File contents by path relative to the secrets folder, such as `ca.crt` or `etcd/ceph1-server.key`. */
  files: ReadonlyMap<string, string>;
  tokens: Tokens | null;
}

/** The file in the secrets folder that holds the tokens. */
export const TOKENS_FILE = 'tokens.json';

/** Shape of each token, checked when the tokens file is read. */
export const TOKEN_PATTERNS: Record<keyof Tokens, RegExp> = {
  bootstrapToken: /^[a-z0-9]{6}\.[a-z0-9]{16}$/,
  vrrpPassword: /^[A-Za-z0-9]{1,8}$/,
  haproxyStatsPassword: /^[A-Za-z0-9]{16,64}$/,
  etcdClusterToken: /^[A-Za-z0-9-]{8,64}$/,
};

/** Parses the tokens file; returns the problems instead of throwing. */
export function parseTokens(text: string): { tokens: Tokens | null; problems: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { tokens: null, problems: [`not valid JSON: ${(error as Error).message}`] };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { tokens: null, problems: ['must be a JSON object'] };
  const record = value as Record<string, unknown>;
  const problems = (Object.keys(TOKEN_PATTERNS) as (keyof Tokens)[]).flatMap((key) => {
    const v = record[key];
    return typeof v === 'string' && TOKEN_PATTERNS[key].test(v) ? [] : [`"${key}" is missing or malformed`];
  });
  return problems.length ? { tokens: null, problems } : { tokens: record as unknown as Tokens, problems };
}

/** Serialises tokens in a fixed key order. */
export function formatTokens(tokens: Tokens): string {
  const ordered = Object.fromEntries((Object.keys(TOKEN_PATTERNS) as (keyof Tokens)[]).map((k) => [k, tokens[k]]));
  return JSON.stringify(ordered, null, 2) + '\n';
}
