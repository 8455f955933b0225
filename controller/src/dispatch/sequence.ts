import type { SequenceSource } from '@loa/protocols';
import type { Database } from '../database/client.js';

/**
 * A monotonic sequence shared by every controller instance: one row per name, bumped
 * atomically in PostgreSQL. Used for command sequence numbers and provision revisions.
 */
export function databaseSequence(db: Database, name: string): SequenceSource {
  return async () => {
    const rows = await db.$queryRaw<Array<{ last: bigint }>>`
      INSERT INTO "CommandSequence" (issuer, last) VALUES (${name}, 1)
      ON CONFLICT (issuer) DO UPDATE SET last = "CommandSequence".last + 1
      RETURNING last`;
    const value = rows[0]?.last;
    if (value === undefined) throw new Error(`sequence ${name} returned nothing`);
    return Number(value);
  };
}
