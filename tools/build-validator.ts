/**
 * Part of npm run build: compiles schema/inventory.schema.json into a standalone validator module
 * (dist/src/inventory/validate-inventory.js), so gen neither loads ajv's compiler nor compiles the schema at start-up.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { compileInventorySchema } from '../src/inventory/schema-compiler.js';

const require = createRequire(import.meta.url);
const standaloneCode = (require('ajv/dist/standalone') as { default: (ajv: unknown, validate: unknown) => string }).default;
const { ajv, validate } = compileInventorySchema({ source: true, esm: true });
// The generated ESM still calls require() for two ajv runtime helpers: give it one.
const prelude = "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n";
const target = fileURLToPath(new URL('../src/inventory/validate-inventory.js', import.meta.url));
writeFileSync(target, prelude + standaloneCode(ajv, validate).replace(/^"use strict";/, ''));
