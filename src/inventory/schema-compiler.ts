/** The one ajv configuration of the inventory schema; used at build time to generate the standalone validator. */
import AjvModule from 'ajv';
import addFormatsModule from 'ajv-formats';
import schemaJson from '../../schema/inventory.schema.json' with { type: 'json' };

const Ajv = AjvModule.default;
const addFormats = addFormatsModule.default;

/** Compiles the schema: every error at once, verbose errors (for the allowed keys), defaults filled in. */
export function compileInventorySchema(code: { source: boolean; esm: boolean }) {
  const ajv = new Ajv({ allErrors: true, verbose: true, useDefaults: true, strict: true, allowUnionTypes: true, code });
  addFormats(ajv, ['ipv4']);
  return { ajv, validate: ajv.compile(schemaJson) };
}
