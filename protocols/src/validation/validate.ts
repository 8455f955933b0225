import type { Static, TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats ships CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

export interface ValidationIssue {
  /** JSON Pointer to the offending value ('' for the whole message). */
  path: string;
  message: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; errors: ValidationIssue[] };

/** At most this many issues are reported, so hostile input cannot make reports huge. */
const MAX_ISSUES = 10;

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, coerceTypes: false });
addFormats(ajv, ['uuid', 'date-time', 'uri']);

const compiled = new WeakMap<TSchema, ValidateFunction>();

function compile(schema: TSchema): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(schema, fn);
  }
  return fn;
}

function describe(error: ErrorObject): ValidationIssue {
  const path = error.instancePath;
  const where = path === '' ? 'message' : path;
  switch (error.keyword) {
    case 'additionalProperties':
      return { path, message: `${where} has unknown property '${String(error.params.additionalProperty)}'` };
    case 'required':
      return { path, message: `${where} lacks required property '${String(error.params.missingProperty)}'` };
    case 'const':
      return { path, message: `${where} must be ${JSON.stringify(error.params.allowedValue)}` };
    default:
      return { path, message: `${where} ${error.message ?? 'is invalid'}` };
  }
}

/** Collapses ajv's per-branch union noise into one line per path. */
function summarise(errors: readonly ErrorObject[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const issue =
      error.keyword === 'const' && errors.some((e) => e.keyword === 'anyOf' && e.instancePath === error.instancePath)
        ? { path: error.instancePath, message: `${error.instancePath || 'message'} is not one of the allowed values` }
        : describe(error);
    if (error.keyword === 'anyOf' && errors.some((e) => e !== error && e.instancePath.startsWith(error.instancePath)))
      continue;
    if (seen.has(issue.message)) continue;
    seen.add(issue.message);
    issues.push(issue);
    if (issues.length >= MAX_ISSUES) break;
  }
  return issues;
}

/** Validates a value against a schema. Never throws, whatever the value. */
export function validate<T extends TSchema>(schema: T, value: unknown): Validated<Static<T>> {
  const fn = compile(schema);
  try {
    if (fn(value)) return { ok: true, value: value as Static<T> };
  } catch (error) {
    // A getter or proxy in a crafted in-process value can throw; report, do not crash.
    return { ok: false, errors: [{ path: '', message: `message could not be inspected: ${String(error)}` }] };
  }
  return { ok: false, errors: summarise(fn.errors ?? []) };
}

/** A reusable validator bound to one schema (compiled on first use). */
export function validatorFor<T extends TSchema>(schema: T): (value: unknown) => Validated<Static<T>> {
  return (value) => validate(schema, value);
}

export function formatIssues(errors: readonly ValidationIssue[]): string {
  return errors.map((e) => e.message).join('; ');
}
