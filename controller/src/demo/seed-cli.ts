// `npm run db:seed --workspace controller`: creates the demo province in DATABASE_URL.
import { loadControllerConfigOrExit } from '../config.js';
import { createDatabase } from '../database/client.js';
import { seedDemoProvince } from './seed.js';

const config = loadControllerConfigOrExit();
const password = process.env.DEMO_PASSWORD || 'loa-demo';
const db = createDatabase(config.DATABASE_URL);
try {
  const summary = await seedDemoProvince(db, { password });
  console.log(
    `seed: demo province ready: ${summary.areas} areas, ${summary.receivers} receivers, ${summary.users} users (password from DEMO_PASSWORD, default "loa-demo"), ${summary.schedules} programmes`,
  );
} finally {
  await db.$disconnect();
}
