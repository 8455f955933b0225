import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { withDatabaseName } from './database-url.js';

const run = promisify(execFile);
const prismaRunner = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'prisma.mjs');

export interface FreshDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Applies every pending migration to the database at `url` (prisma migrate deploy). */
export async function migrateDatabase(url: string): Promise<void> {
  await run(process.execPath, [prismaRunner, 'migrate', 'deploy'], {
    env: { ...process.env, DATABASE_URL: url },
    timeout: 120_000,
  });
}

/**
 * Creates a new, fully migrated database next to the one `adminUrl` names, for a test
 * run or a disposable demo. `drop()` removes it again.
 */
export async function createFreshDatabase(adminUrl: string, prefix = 'loa_test'): Promise<FreshDatabase> {
  const name = `${prefix}_${randomUUID().replaceAll('-', '_')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE "${name}"`);
  const url = withDatabaseName(adminUrl, name);
  const drop = () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  try {
    await migrateDatabase(url);
  } catch (error) {
    await drop();
    throw error;
  }
  return { name, url, drop };
}
