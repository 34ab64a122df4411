/** Generates the TypeScript type of an inventory as written (before defaults) from schema/inventory.schema.json. */
import { compile } from 'json-schema-to-typescript';
import { inventorySchema } from '../src/inventory/schema.js';

/** The text of src/inventory/schema.generated.ts. */
export async function schemaTypes(): Promise<string> {
  const banner = '/** The inventory as written, generated from schema/inventory.schema.json by `npm run types`; do not edit. */\n/* eslint-disable */\n';
  const body = await compile(structuredClone(inventorySchema) as Parameters<typeof compile>[0], 'InventoryInput', {
    bannerComment: '',
    additionalProperties: false,
    declareExternallyReferenced: true,
    ignoreMinAndMaxItems: true,
    style: { singleQuote: true, printWidth: 120 },
  });
  return banner + body;
}
