/** npm run docs: rewrites docs/inventory.md from the schema. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inventoryReference } from '../src/docs/inventory-reference.js';
import { inventorySchema } from '../src/inventory/schema.js';

const target = fileURLToPath(new URL('../../docs/inventory.md', import.meta.url));
writeFileSync(target, inventoryReference(inventorySchema));
console.log(`wrote ${target}`);
