// Prisma CLI configuration: the JS schema engine over a pg driver adapter, so generate
// and every migrate command work offline (no engine download).
import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { createMigrateAdapter } from './src/database/migrate-adapter.js';

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join('prisma', 'schema.prisma'),
  migrations: { path: path.join('prisma', 'migrations') },
  async adapter() {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error('DATABASE_URL is not set');
    return createMigrateAdapter(url);
  },
});
