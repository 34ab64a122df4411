/** npm run types: writes src/inventory/schema.generated.ts, the TypeScript shape of the inventory as written, from the schema. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { schemaTypes } from './schema-types.js';

const target = fileURLToPath(new URL('../../src/inventory/schema.generated.ts', import.meta.url));
writeFileSync(target, await schemaTypes());
console.log(`wrote ${target}`);
