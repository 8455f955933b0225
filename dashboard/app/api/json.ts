/** The JSON body of an OpenAPI response or request in the generated types (schema.d.ts). */
export type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;
