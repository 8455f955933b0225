import { afterAll, beforeAll } from 'vitest';
import { loadControllerConfig } from '../../src/config.js';
import { createDatabase, type Database } from '../../src/database/client.js';
import { createFreshDatabase, type FreshDatabase } from '../../src/database/fresh-database.js';

/**
 * Gives a test file its own migrated PostgreSQL database (on the server DATABASE_URL
 * points at), dropped when the file is done.
 */
export function useFreshDatabase(): { db: () => Database; url: () => string } {
  let fresh: FreshDatabase | undefined;
  let database: Database | undefined;
  beforeAll(async () => {
    fresh = await createFreshDatabase(loadControllerConfig().DATABASE_URL);
    database = createDatabase(fresh.url);
  }, 120_000);
  afterAll(async () => {
    await database?.$disconnect();
    await fresh?.drop();
  });
  return {
    db: () => {
      if (!database) throw new Error('database not ready');
      return database;
    },
    url: () => {
      if (!fresh) throw new Error('database not ready');
      return fresh.url;
    },
  };
}
