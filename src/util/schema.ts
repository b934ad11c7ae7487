/**
 * The program's one ajv instance and the one way a file is checked against its schema. Schemas are
 * written with TypeBox, so each file format is declared once: ajv checks values against the schema object
 * and TypeScript takes the type from it (`Static<typeof Schema>`). Every failure is one line naming the
 * file and the field.
 */
import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { HilError } from './errors.js';

/** Strict, so that a schema using a keyword ajv does not know, or a `required` field it never declares,
 *  fails when compiled instead of silently checking less than it says. */
export const ajv = new Ajv({ allErrors: false, strict: true });

/** ajv caches by schema object, so compiling the same schema again costs nothing. */
export function compileSchema<T extends TSchema>(schema: T): ValidateFunction<Static<T>> {
  return ajv.compile<Static<T>>(schema);
}

/** `{ enum: [...] }` rather than TypeBox's union of literals, whose failure would name the first literal
 *  only; the error lists every allowed value. */
export function StringEnum<const T extends readonly string[]>(values: T): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ enum: [...values] });
}

/** `{ const: value }` without the `type` TypeBox's Literal adds, for a literal that is one branch of a
 *  union: a value of another type then fails on the literal ("must be equal to constant"), as the profile
 *  messages always have, not on its type. */
export function Const<const T extends string | number>(value: T): TUnsafe<T> {
  return Type.Unsafe<T>({ const: value });
}

/** A number that JSON may have turned into null (NaN and ±Infinity serialise as null). */
export const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

/** `link.request_ms`, or "(top level)". */
function fieldPath(instancePath: string, prefix: string): string {
  const p = [prefix, ...instancePath.split('/').slice(1)].filter(Boolean).join('.');
  return p || '(top level)';
}

/** One ajv error as one line; `prefix` names the section the value was taken from (`launch`). */
export function describeSchemaError(e: ErrorObject, prefix = ''): string {
  const at = fieldPath(e.instancePath, prefix);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return `${at}: unknown field "${String(p.additionalProperty)}"`;
    case 'required':
      return `${at}: missing field "${String(p.missingProperty)}"`;
    case 'enum':
      return `${at} must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${at} ${e.message ?? 'is invalid'}`;
  }
}

/** Checks `value` (read from `file`) against `schema`; on failure a HilError `<file>: <field> <problem>` with `hint`. */
export function validate<T extends TSchema>(schema: T, value: unknown, file: string, hint: string, prefix = ''): Static<T> {
  const check = compileSchema(schema);
  if (!check(value)) throw new HilError(`${file}: ${describeSchemaError(check.errors![0]!, prefix)}`, hint);
  return value;
}

/**
 * Checks the `format` and `version` a stored file carries, before its schema: a file written by another
 * version of hil is then named as such, with what to do (`fix`), instead of as a field that looks wrong.
 */
export function checkFormatVersion(value: unknown, file: string, format: string, version: number, fix: string): void {
  const v = (typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {}) as { format?: unknown; version?: unknown };
  if (v.format !== format) throw new HilError(`${file} is not a ${format} file (its format is ${JSON.stringify(v.format) ?? 'missing'})`, fix);
  if (v.version === undefined) throw new HilError(`${file} has no format version; this hil reads ${format} version ${version}`, fix);
  if (v.version !== version) throw new HilError(`${file} is ${format} version ${JSON.stringify(v.version)}; this hil reads version ${version}`, fix);
}
