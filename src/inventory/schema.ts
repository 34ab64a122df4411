/** Checks an inventory against its schema (validator generated at build time); turns ajv errors into problems with JSON pointers. */
import type { ErrorObject } from 'ajv';
import ipaddr from 'ipaddr.js';
import schemaJson from '../../schema/inventory.schema.json' with { type: 'json' };
import { pointerToken, type Problem } from './problems.js';
// Generated from the schema by npm run build (tools/build-validator.ts with src/inventory/schema-compiler.ts):
// loading it costs a fraction of compiling the schema with ajv at every start.
import validate from './validate-inventory.js';

/** The v1 inventory JSON schema (schema/inventory.schema.json). */
export const inventorySchema: Record<string, unknown> = schemaJson;

/**
 * Validates a parsed inventory in place (filling defaults) and returns every schema problem; `written` gives a plain
 * scalar as the file wrote it (for the hint to quote a number), when the parser knows it.
 */
export function checkSchema(document: unknown, written: (pointer: string) => string | undefined = () => undefined): Problem[] {
  if (validate(document)) return [];
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const error of validate.errors ?? []) {
    if (error.keyword === 'propertyNames') continue; // its cause (the key's own error) is reported, naming the key
    const problem = withHint(toProblem(error), error, written);
    const key = `${problem.pointer}\u0000${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}

function toProblem(error: ErrorObject): Problem {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return {
        pointer: `${error.instancePath}/${pointerToken(String(params.additionalProperty))}`,
        severity: 'error',
        message: `unknown key "${params.additionalProperty}"${allowedKeys(error)}`,
      };
    case 'required':
      return { pointer: error.instancePath, severity: 'error', message: `missing required key "${params.missingProperty}"` };
    case 'enum':
      // A key a map does not know (propertyNames' enum) is reported at the key, as an unknown key of an object is.
      if (error.propertyName !== undefined)
        return {
          pointer: `${error.instancePath}/${pointerToken(error.propertyName)}`,
          severity: 'error',
          message: `unknown key "${error.propertyName}" (allowed: ${(params.allowedValues as unknown[]).join(', ')})`,
        };
      return {
        pointer: error.instancePath,
        severity: 'error',
        message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'const':
      return { pointer: error.instancePath, severity: 'error', message: `must be ${JSON.stringify(params.allowedValue)}` };
    case 'pattern':
      // A bad key of a map (propertyNames) is reported at the key, as an unknown key would be.
      if (error.propertyName !== undefined)
        return {
          pointer: `${error.instancePath}/${pointerToken(error.propertyName)}`,
          severity: 'error',
          message: `key "${error.propertyName}" ${patternMessage(error)}`,
        };
      return { pointer: error.instancePath, severity: 'error', message: patternMessage(error) };
    default:
      return { pointer: error.instancePath, severity: 'error', message: error.message ?? error.keyword };
  }
}

const IPV6 = 'and kubeha does not support IPv6 yet (IPv4 clusters only)';

/** The problem with a hint where the value shows a likely cause: a number or boolean YAML read from an unquoted
 * string, an IPv6 address or range. */
function withHint(problem: Problem, error: ErrorObject, written: (pointer: string) => string | undefined): Problem {
  const data: unknown = error.data;
  if (error.keyword === 'type' && (error.params as { type?: unknown }).type === 'string' && (typeof data === 'number' || typeof data === 'boolean')) {
    const text = written(error.instancePath) ?? String(data);
    return { ...problem, message: `must be a string, not the ${typeof data} ${String(data)}: quote it: "${text}"` };
  }
  if (typeof data !== 'string') return problem;
  if (error.keyword === 'format' && (error.params as { format?: unknown }).format === 'ipv4' && ipaddr.IPv6.isValid(data))
    return { ...problem, message: `${problem.message}: ${data} is an IPv6 address, ${IPV6}` };
  if (error.schemaPath === '#/definitions/cidr/pattern' && ipaddr.IPv6.isValidCIDR(data))
    return { ...problem, message: `${problem.message}: ${data} is an IPv6 range, ${IPV6}` };
  return problem;
}

function allowedKeys(error: ErrorObject): string {
  const properties = (error.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  if (!properties) return '';
  const keys = Object.keys(properties).filter((k) => k !== '$schema');
  return ` (allowed: ${keys.join(', ')})`;
}

const PATTERN_NAMES: Record<string, string> = {
  '#/definitions/dnsName/pattern': 'must be an RFC 1123 name: lowercase letters, digits, "-" and "."',
  '#/definitions/dnsLabel/pattern': 'must be an RFC 1123 label: lowercase letters, digits and "-"',
  '#/definitions/cidr/pattern': 'must be an IPv4 CIDR range such as 10.244.0.0/16',
  '#/definitions/interface/pattern': 'must be a network interface name: up to 15 letters, digits, "_", "." or "-"',
  '#/properties/cluster/properties/kubernetesVersion/pattern': 'must be an exact Kubernetes release such as "1.34.2"',
  '#/properties/etcd/properties/version/pattern': 'must be an exact etcd release such as "3.5.21"',
  '#/properties/etcd/properties/dataDir/pattern': 'must be an absolute path of letters, digits, ".", "_" and "-"',
  '#/definitions/calendar/pattern':
    'must be a systemd OnCalendar expression kubeha accepts: hourly, daily, weekly, monthly, ... or [WEEKDAYS] [*-MONTH-DAY] HH:MM[:SS], such as "*-*-* 02:30" or "Mon..Fri 03:00"',
  '#/properties/etcd/properties/backup/properties/dir/pattern': 'must be an absolute path of letters, digits, ".", "_" and "-"',
  '#/properties/cluster/properties/imageRepository/pattern':
    'must be a registry path such as "registry.k8s.io" or "mirror.example.com:5000/k8s" (a port from 1 to 65535)',
  '#/definitions/url/pattern':
    'must be an http(s) URL such as "https://mirror.example.com/k8s": host, optional port, a path without spaces, quotes or "$", no trailing "/"',
  '#/definitions/sha256/pattern': 'must be a SHA-256 checksum: 64 lowercase hexadecimal digits',
  '#/definitions/pgpFingerprint/pattern':
    'must be an OpenPGP fingerprint as gpg --show-keys prints it: 40 hexadecimal digits (spaces allowed), such as "9DC8 5822 9FC7 DD38 854A  E2D8 8D81 803C 0EBF CD88"',
  // signingKey is referenced twice, so ajv compiles it as a function of its own, with paths relative to it.
  '#/properties/armored/pattern':
    'must be an ASCII-armored public key: from a "-----BEGIN PGP PUBLIC KEY BLOCK-----" line to an "-----END PGP PUBLIC KEY BLOCK-----" line (gpg --armor --export KEYID)',
  '#/definitions/registryHost/pattern': 'must be a registry host such as "docker.io" or "registry.example.com:5000"',
  '#/definitions/registryMirror/pattern':
    'must be an https URL of a registry, optionally with a path, such as "https://harbor.example.com/k8s" (lowercase, no trailing "/")',
  '#/properties/cluster/properties/bootstrapTokenTTL/pattern': 'must be a duration such as "24h0m0s" or "2h"',
  '#/properties/cluster/properties/kubelet/properties/evictionHard/additionalProperties/pattern':
    'must be a percentage below 100 such as "10%" or a quantity such as "2Gi", "500Mi" or "100000" (Ki, Mi, Gi, Ti)',
};

function patternMessage(error: ErrorObject): string {
  const named = PATTERN_NAMES[error.schemaPath];
  if (named) return named;
  return `must match pattern "${(error.params as { pattern: string }).pattern}"`;
}
