// Runs the controller's HTTP API: `node controller/dist/server.js` (npm start does this).
import { readFileSync } from 'node:fs';
import { CommandSigner, loadSigningKey } from '@loa/protocols';
import { Redis } from 'ioredis';
import mqtt from 'mqtt';
import { startEscalationJobs } from './alerts/escalation-jobs.js';
import { DiskAssetStore } from './assets/asset-store.js';
import { AudioServices } from './audio/audio-services.js';
import { hashMosquittoPassword } from './broker/mosquitto-password.js';
import { startFeedPolling } from './cap/cap-feed-poller.js';
import { capPolicy } from './cap/cap-policy.js';
import { loadControllerConfigOrExit } from './config.js';
import { createDatabase } from './database/client.js';
import { ProvisionJobs } from './dispatch/provision-jobs.js';
import { Provisioner } from './dispatch/provisioner.js';
import { databaseSequence } from './dispatch/sequence.js';
import { buildApp } from './http/app.js';
import { ReceiverIngest } from './ingest/receiver-ingest.js';
import { endLocalBroadcasts } from './live/live-broadcast.js';
import { EventBus } from './live-events/event-bus.js';
import { createMetrics } from './metrics/metrics-routes.js';
import { startPresenceJobs } from './presence/presence-jobs.js';
import { startTelemetryRetention } from './receivers/telemetry-retention.js';
import { startRelays } from './relay/relay-runner.js';
import { startHorizonJobs } from './scheduling/horizon-jobs.js';
import { targetsUsingContent } from './scheduling/replan.js';
import { TimeServer } from './time-sync/time-server.js';

const config = loadControllerConfigOrExit();
const db = createDatabase(config.DATABASE_URL);
const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 });
let signingKey: ReturnType<typeof loadSigningKey>;
try {
  signingKey = loadSigningKey(JSON.parse(readFileSync(config.SIGNING_KEY_FILE, 'utf8')));
} catch (error) {
  console.error(`cannot load the command-signing key ${config.SIGNING_KEY_FILE}: ${(error as Error).message}`);
  console.error('create one with: npm run keys --workspace protocols -- generate <file>, and set SIGNING_KEY_FILE');
  process.exit(1);
}
const signer = new CommandSigner({
  issuer: config.COMMAND_ISSUER,
  key: signingKey,
  nextSeq: databaseSequence(db, config.COMMAND_ISSUER),
});
const commandClient = await mqtt.connectAsync(config.MQTT_URL, { protocolVersion: 5, reconnectPeriod: 1000 });
const provisioning = new ProvisionJobs({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX });
const metrics = createMetrics(db);
const bus = new EventBus(config.REDIS_URL, config.EVENTS_CHANNEL);
const assets = new DiskAssetStore(config.ASSET_DIR);
const audio = new AudioServices(db, assets, config);
const app = await buildApp({
  db,
  redis,
  rateLimitNamespace: config.RATE_LIMIT_NAMESPACE,
  logger: true,
  metrics,
  bus,
  commands: { signer, mqtt: commandClient },
  assets,
  assetMaxBytes: config.ASSET_MAX_BYTES,
  audio,
  alertApproval: config.ALERT_APPROVAL,
  alertEscalateAfterS: config.ALERT_ESCALATE_AFTER_S,
  cap: capPolicy(config),
  live: { signingKey, idleEndS: config.LIVE_IDLE_END_S, opusBitrate: config.OPUS_BITRATE },
  dashboardDir: config.DASHBOARD_DIR,
  ...(config.EMQX_HOOK_TOKEN
    ? {
        emqx: {
          hookToken: config.EMQX_HOOK_TOKEN,
          controller: { username: 'controller', passwordHash: hashMosquittoPassword(config.MQTT_CONTROLLER_PASSWORD) },
        },
      }
    : {}),
  onScheduleChanged: (targets) => provisioning.enqueue(targets),
});
provisioning.work(new Provisioner({ db, mqtt: commandClient, signer }), (result) =>
  app.log.info(result, 'provisioned'),
);
await audio.start({
  // A text variant got its speech: the receivers airing it get the audio.
  onContentChanged: async (contentId) => provisioning.enqueue(await targetsUsingContent(db, contentId)),
  onJob: (job, actor) => {
    void bus.publish({ type: 'audio.job', userId: actor?.userId ?? null, job, at: new Date().toISOString() });
    if (job.state === 'refused' || job.state === 'failed') app.log.warn({ job }, 'audio job ended without audio');
  },
});
const horizon = await startHorizonJobs({
  db,
  redisUrl: config.REDIS_URL,
  prefix: config.QUEUE_PREFIX,
  enqueue: (targets) => provisioning.enqueue(targets),
  onMissed: (missed) => {
    const at = new Date().toISOString();
    for (const { receiverId, occurrenceId } of missed)
      void bus.publish({ type: 'delivery.state', receiverId, occurrenceId, state: 'missed', at });
  },
});
// Relay schedules: the controller pulls each stream and airs it as a live session.
const relays = startRelays(
  {
    db,
    signer,
    mqtt: commandClient,
    signingKey,
    bus,
    opus: { bitrate: config.OPUS_BITRATE },
    assets,
    log: (message, detail) => app.log.info(detail, message),
  },
  { retryS: config.RELAY_RETRY_S, timeoutS: config.RELAY_TIMEOUT_S, ffmpegPath: config.FFMPEG_PATH },
);
const escalation = await startEscalationJobs({
  db,
  redisUrl: config.REDIS_URL,
  prefix: config.QUEUE_PREFIX,
  ...(config.ALERT_ESCALATION_WEBHOOK ? { webhookUrl: config.ALERT_ESCALATION_WEBHOOK } : {}),
  log: (message, detail) => app.log.warn(detail, message),
  onEscalated: (escalated) => {
    for (const r of escalated.receivers)
      void bus.publish({
        type: 'alert.delivery',
        alertId: escalated.alertId,
        receiverId: r.receiverId,
        state: r.state,
        escalated: true,
        at: escalated.escalatedAt,
      });
  },
});
const capFeeds = await startFeedPolling(
  {
    db,
    signer,
    mqtt: commandClient,
    speech: audio.speech,
    approval: config.ALERT_APPROVAL,
    now: () => new Date(),
    policy: capPolicy(config),
    escalateAfterS: config.ALERT_ESCALATE_AFTER_S,
  },
  {
    redisUrl: config.REDIS_URL,
    prefix: config.QUEUE_PREFIX,
    feeds: config.CAP_FEEDS.split(/\s+/).filter(Boolean),
    everyS: config.CAP_FEED_POLL_S,
    log: (message, detail) => app.log.warn(detail, message),
  },
);
const ingest = new ReceiverIngest({
  db,
  mqttUrl: config.MQTT_URL,
  group: config.INGEST_GROUP,
  log: (message, detail) => {
    if (typeof detail?.reason === 'string') metrics.ingestRejected.inc({ reason: detail.reason });
    app.log.warn(detail, message);
  },
  onEvent: (event) => void bus.publish(event),
  telemetrySampleS: config.TELEMETRY_SAMPLE_S,
});
await ingest.start();
const timeServer = new TimeServer({
  mqttUrl: config.MQTT_URL,
  key: signingKey,
  group: config.INGEST_GROUP,
  log: (message, detail) => app.log.warn(detail, message),
});
await timeServer.start();
const presence = await startPresenceJobs({
  db,
  redisUrl: config.REDIS_URL,
  prefix: config.QUEUE_PREFIX,
  onOffline: (ids) => {
    app.log.warn({ receivers: ids }, 'receivers went silent: flagged offline');
    const at = new Date().toISOString();
    for (const receiverId of ids) void bus.publish({ type: 'receiver.online', receiverId, online: false, at });
  },
});
// Telemetry history older than TELEMETRY_RETENTION_DAYS is deleted hourly.
const telemetryRetention = await startTelemetryRetention({
  db,
  redisUrl: config.REDIS_URL,
  prefix: config.QUEUE_PREFIX,
  retentionDays: config.TELEMETRY_RETENTION_DAYS,
});

let closing = false;
async function shutdown(signal: string, exitCode = 0) {
  if (closing) return;
  closing = true;
  app.log.info({ signal }, 'shutting down');
  // Receivers stop at once (last packet, live.stop) rather than by their heartbeat timeout.
  await relays.close();
  await endLocalBroadcasts('controller_shutdown');
  await app.close();
  await ingest.stop();
  await timeServer.stop();
  await horizon.stop();
  await escalation.stop();
  await capFeeds.stop();
  await bus.close();
  await audio.close();
  await provisioning.close();
  await commandClient.endAsync();
  await presence.stop();
  await telemetryRetention.stop();
  await db.$disconnect();
  redis.disconnect();
  process.exit(exitCode);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

try {
  await app.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT });
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  console.error(
    code === 'EADDRINUSE'
      ? `port ${config.HTTP_PORT} on ${config.HTTP_HOST} is taken (another controller running?); stop it or set HTTP_PORT`
      : `cannot listen on ${config.HTTP_HOST}:${config.HTTP_PORT}: ${(error as Error).message}`,
  );
  await shutdown('listen-failed', 1);
}
app.log.info(`API docs at http://${config.HTTP_HOST}:${config.HTTP_PORT}/docs`);
