// Runs the controller's HTTP API: `node controller/dist/server.js` (npm start does this).
import { Redis } from 'ioredis';
import { loadControllerConfig } from './config.js';
import { createDatabase } from './database/client.js';
import { buildApp } from './http/app.js';
import { ReceiverIngest } from './ingest/receiver-ingest.js';
import { startPresenceJobs } from './presence/presence-jobs.js';

const config = loadControllerConfig();
const db = createDatabase(config.DATABASE_URL);
const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 });
const app = await buildApp({ db, redis, logger: true });
const ingest = new ReceiverIngest({
  db,
  mqttUrl: config.MQTT_URL,
  log: (message, detail) => app.log.warn(detail, message),
});
await ingest.start();
const presence = await startPresenceJobs({
  db,
  redisUrl: config.REDIS_URL,
  onOffline: (ids) => app.log.warn({ receivers: ids }, 'receivers went silent: flagged offline'),
});

let closing = false;
async function shutdown(signal: string) {
  if (closing) return;
  closing = true;
  app.log.info({ signal }, 'shutting down');
  await app.close();
  await ingest.stop();
  await presence.stop();
  await db.$disconnect();
  redis.disconnect();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

await app.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT });
app.log.info(`API docs at http://${config.HTTP_HOST}:${config.HTTP_PORT}/docs`);
