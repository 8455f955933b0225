import type { FastifySchemaValidationError } from 'fastify';

/**
 * One readable message per field: a value outside a list of choices (language codes,
 * categories) names the choices, instead of one "must be equal to constant" per choice.
 */
export function schemaErrorFormatter(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const choices = new Map<string, string[]>();
  const messages: string[] = [];
  for (const error of errors) {
    const field = `${dataVar}${error.instancePath}`;
    if (error.keyword === 'const')
      choices.set(field, [...(choices.get(field) ?? []), String(error.params.allowedValue)]);
    else if (!(error.keyword === 'anyOf' && choices.has(field))) messages.push(`${field} ${describe(error)}`);
  }
  for (const [field, values] of choices) {
    messages.unshift(
      field.endsWith('/language')
        ? `${field} is not a known language; use an ISO 639-3 code: ${values.join(', ')}`
        : `${field} must be one of: ${values.join(', ')}`,
    );
  }
  return new Error(messages.join('; '));
}

/** Ajv's message, naming the offending property where Ajv leaves it out. */
export function describe(error: FastifySchemaValidationError): string {
  if (error.keyword === 'additionalProperties')
    return `has an unknown property "${String(error.params.additionalProperty)}"; check its spelling`;
  return error.message ?? 'is invalid';
}
