/** Generates the inventory reference (docs/inventory.md) from the JSON schema and the version table, so they cannot drift. Pure. */
import { kubernetesVersionsReference } from './kubernetes-versions.js';

interface SchemaNode {
  title?: string;
  type?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  minItems?: number;
  required?: string[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  $ref?: string;
}

/** One row of the reference: a dotted path and what the schema says about it. */
interface Row {
  path: string;
  type: string;
  required: boolean;
  fallback: string;
  description: string;
}

/** Renders the reference as Markdown, one table per top-level section. */
export function inventoryReference(schema: Record<string, unknown>): string {
  const root = schema as SchemaNode & { definitions?: Record<string, SchemaNode> };
  const resolve = (node: SchemaNode): SchemaNode => {
    if (!node.$ref) return node;
    const target = root.definitions?.[node.$ref.replace('#/definitions/', '')];
    return { ...target, ...node, $ref: undefined, description: node.description ?? target?.description };
  };
  const rows: Row[] = [];
  const walk = (node: SchemaNode, path: string, required: boolean) => {
    const n = resolve(node);
    if (path) rows.push({ path, type: typeOf(n), required, fallback: n.default === undefined ? '' : JSON.stringify(n.default), description: describe(n) });
    const props = n.properties ?? (n.items ? resolve(n.items).properties : undefined);
    const requiredKeys = n.required ?? (n.items ? resolve(n.items).required : undefined) ?? [];
    for (const [key, child] of Object.entries(props ?? {})) {
      if (key === '$schema') continue;
      walk(child, path ? `${path}${n.items ? '[]' : ''}.${key}` : key, requiredKeys.includes(key));
    }
  };
  walk(root, '', true);
  const sections = [...new Set(rows.map((r) => r.path.split(/[.[]/)[0]!))];
  const out = [
    '# Inventory reference',
    '',
    '<!-- Generated from schema/inventory.schema.json and src/common/kubernetes-versions.ts by `npm run docs`; a test fails when this file is stale. Do not edit. -->',
    '',
    root.description ?? '',
    'JSON or YAML. Unknown keys are errors. After the schema, kubeha checks named rules (unique names and addresses,',
    'disjoint ranges, a VIP that is no host address, supported versions, ports that do not collide on a host, ...)',
    'and reports every problem at once as `FILE POINTER: message (line N)`.',
  ];
  for (const section of sections) {
    out.push('', `## ${section}`, '', '| key | type | required | default | description |', '|---|---|---|---|---|');
    for (const r of rows.filter((row) => row.path === section || row.path.startsWith(`${section}.`) || row.path.startsWith(`${section}[]`))) {
      out.push(`| \`${r.path}\` | ${r.type} | ${r.required ? 'yes' : ''} | ${r.fallback ? `\`${r.fallback}\`` : ''} | ${r.description} |`);
    }
  }
  return out.join('\n') + '\n\n' + kubernetesVersionsReference();
}

function typeOf(n: SchemaNode): string {
  if (n.enum) return n.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ');
  if (n.const !== undefined) return `\`${JSON.stringify(n.const)}\``;
  if (n.type === 'array' && n.items) return `list of ${typeOf(n.items)}`;
  if (n.title) return `${n.type} (${n.title})`;
  if (n.format) return `${n.type} (${n.format})`;
  return n.type ?? 'object';
}

function describe(n: SchemaNode): string {
  const limits = [
    n.minimum !== undefined && n.maximum !== undefined && !n.title ? `${n.minimum}-${n.maximum}` : '',
    n.pattern && !n.title ? `pattern \`${n.pattern.replace(/\|/g, '\\|')}\`` : '',
    n.minItems ? `at least ${n.minItems}` : '',
  ].filter(Boolean);
  return [n.description ?? '', limits.length ? `(${limits.join('; ')})` : ''].filter(Boolean).join(' ');
}
