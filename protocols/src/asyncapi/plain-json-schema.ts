import type { TSchema } from '@sinclair/typebox';

/**
 * A TypeBox schema as plain JSON: TypeBox's symbol keys dropped, and the top-level $id
 * removed so the schema can live inside another document (AsyncAPI components).
 */
export function plainJsonSchema(schema: TSchema, keepId = false): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
  if (!keepId) delete plain.$id;
  return plain;
}
