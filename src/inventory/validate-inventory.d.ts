/** Types of the standalone validator that npm run build generates from the schema (tools/build-validator.ts). */
import type { ErrorObject } from 'ajv';

/** Validates (and fills defaults into) an inventory document; errors are left on the function. */
declare const validate: ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
export default validate;
