// Driver adapter factory for the Prisma CLI's JS schema engine (prisma.config.ts `adapter`).
// Works around three problems of @prisma/adapter-pg 6.19.3 when used by `prisma migrate`:
//  1. Columns of type "char" (OID 18) and `name` (OID 19), returned by the schema engine's
//     catalog/introspection queries, throw "Unsupported column type" (prisma/prisma#27403).
//     MigrateClient (a pg.Client subclass used only by the migrate pools) reports them as text.
//  2. PrismaPg#connectToShadowDb spreads `{ ...config, database }`, but pg lets a
//     `connectionString` override `database`, so the "shadow" would be the real database.
//     It also drops the shadow database before ending the shadow pool (fails while the pool
//     still holds connections) and never ends the admin pool it used for CREATE DATABASE.
//     We build the shadow connection string ourselves and close things in the right order.
//  3. (timers) see scripts/unref-timers.mjs.
import { debuglog } from 'node:util';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { withDatabaseName } from './database-url.js';

const debug = debuglog('prisma-migrate-adapter'); // NODE_DEBUG=prisma-migrate-adapter

const OID_CHAR = 18; // "char"
const OID_NAME = 19; // name
const OID_TEXT = 25; // text

type MigrateAdapterFactory = Pick<PrismaPg, 'provider' | 'adapterName' | 'connect' | 'connectToShadowDb'>;
type PgAdapter = Awaited<ReturnType<PrismaPg['connect']>>;

function patchFields<T>(result: T): T {
  const results = Array.isArray(result) ? result : [result];
  for (const r of results as Array<{ fields?: Array<{ dataTypeID: number }> } | undefined>) {
    for (const field of r?.fields ?? []) {
      if (field.dataTypeID === OID_CHAR || field.dataTypeID === OID_NAME) {
        debug('column %s: OID %d reported as text', (field as { name?: string }).name, field.dataTypeID);
        field.dataTypeID = OID_TEXT;
      }
    }
  }
  return result;
}

/** pg.Client that reports "char" and name columns as text (values are already plain strings). */
export class MigrateClient extends pg.Client {
  // pg.Pool#query always calls client.query(text|config, values, callback). pg's typings
  // overload query() heavily, hence the loose signature of this pass-through.
  // biome-ignore lint/suspicious/noExplicitAny: forwards any of pg's query overloads unchanged
  override query(...args: any[]): any {
    const passThrough = super.query as (...a: unknown[]) => unknown;
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      args[args.length - 1] = (err: Error | null, res: unknown) => last(err, err ? res : patchFields(res));
      return passThrough.apply(this, args);
    }
    const ret = passThrough.apply(this, args) as { then?: unknown } | undefined;
    return ret && typeof ret.then === 'function' ? (ret as Promise<unknown>).then(patchFields) : ret;
  }
}

function migratePool(connectionString: string): pg.Pool {
  // allowExitOnIdle: idle clients never keep the CLI process alive.
  return new pg.Pool({ connectionString, Client: MigrateClient, allowExitOnIdle: true });
}

/** Adapter factory for prisma.config.ts: `adapter: async () => createMigrateAdapter(url)`. */
export function createMigrateAdapter(connectionString: string): MigrateAdapterFactory {
  const main = new PrismaPg(migratePool(connectionString), { disposeExternalPool: true });
  return {
    provider: main.provider,
    adapterName: main.adapterName,
    connect: () => main.connect(),
    async connectToShadowDb(): Promise<PgAdapter> {
      const name = `prisma_migrate_shadow_db_${globalThis.crypto.randomUUID().replaceAll('-', '_')}`;
      const admin = new pg.Pool({ connectionString, max: 1, allowExitOnIdle: true });
      let shadowPool: pg.Pool | undefined;
      let cleanedUp = false;
      // Order matters: end the shadow pool, then drop the database, then end the admin pool.
      const cleanup = async (): Promise<void> => {
        if (cleanedUp) return;
        cleanedUp = true;
        try {
          await shadowPool?.end();
          await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
          debug('dropped shadow database %s', name);
        } finally {
          await admin.end();
        }
      };
      try {
        await admin.query(`CREATE DATABASE "${name}"`);
        debug('created shadow database %s', name);
        shadowPool = migratePool(withDatabaseName(connectionString, name));
        const { rows } = await shadowPool.query<{ db: string }>('SELECT current_database() AS db');
        if (rows[0]?.db !== name) throw new Error(`shadow pool reached ${rows[0]?.db}, expected ${name}`);
        const shadow = await new PrismaPg(shadowPool).connect();
        shadow.dispose = cleanup; // the CLI calls dispose() when it is done with the shadow database
        return shadow;
      } catch (error) {
        await cleanup();
        throw error;
      }
    },
  };
}
