import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import websocket from '@fastify/websocket';
import type { CommandSigner, SigningKey } from '@loa/protocols';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { MqttClient } from 'mqtt';
import type { Principal } from '../access/principal.js';
import { alertDeliveryRoutes } from '../alerts/alert-delivery-routes.js';
import { alertRoutes } from '../alerts/alert-routes.js';
import type { ApprovalRule } from '../alerts/approval-rule.js';
import { areaRoutes } from '../areas/area-routes.js';
import { assetRoutes } from '../assets/asset-routes.js';
import type { AssetStore } from '../assets/asset-store.js';
import { uploadRoutes } from '../assets/upload-routes.js';
import type { AudioServices } from '../audio/audio-services.js';
import { auditRoutes } from '../audit/audit-routes.js';
import { authRoutes, SESSION_COOKIE } from '../auth/auth-routes.js';
import { principalFromApiToken, principalFromSession } from '../auth/principals.js';
import { tokenRoutes } from '../auth/token-routes.js';
import { emqxHooks } from '../broker/emqx-hooks.js';
import type { CapPolicy } from '../cap/cap-policy.js';
import { capRoutes } from '../cap/cap-routes.js';
import { contentRoutes } from '../content/content-routes.js';
import { dashboardRoutes } from '../dashboard/dashboard-routes.js';
import type { Database } from '../database/client.js';
import { deliveryRoutes } from '../deliveries/delivery-routes.js';
import { commandRoutes } from '../dispatch/command-routes.js';
import { trustedKeyRoutes } from '../dispatch/trusted-key-routes.js';
import { healthRoutes } from '../health/health-routes.js';
import { liveRoutes } from '../live/live-routes.js';
import type { EventBus } from '../live-events/event-bus.js';
import { eventRoutes } from '../live-events/event-routes.js';
import { createMetrics, type Metrics, metricsRoutes, observeHttp } from '../metrics/metrics-routes.js';
import { receiverActionRoutes } from '../receivers/receiver-actions.js';
import { receiverChangeRoutes } from '../receivers/receiver-changes.js';
import { receiverRoutes } from '../receivers/receiver-routes.js';
import { receiverTelemetryRoutes } from '../receivers/receiver-telemetry.js';
import { occurrenceRoutes } from '../scheduling/occurrence-routes.js';
import { targetsUsingContent } from '../scheduling/replan.js';
import { scheduleChangeRoutes } from '../scheduling/schedule-changes.js';
import { type ScheduleChanged, scheduleRoutes } from '../scheduling/schedule-routes.js';
import { speechRoutes } from '../speech/speech-routes.js';
import { userRoutes } from '../users/user-routes.js';
import { Problem, problemHandler } from './problem.js';
import { schemaErrorFormatter } from './validation-errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export interface AppOptions {
  db: Database;
  redis: Redis;
  logger?: boolean;
  sessionTtlMs?: number;
  /** Sign-in attempts per client address per minute, counted in Redis across instances. */
  loginRateLimit?: number;
  /** Redis key prefix of the rate-limit counters (tests use their own). */
  rateLimitNamespace?: string;
  /** The controller's clock (tests fix it). */
  now?: () => Date;
  /** Called after a schedule change with its targets (the server queues provisioning). */
  onScheduleChanged?: ScheduleChanged;
  metrics?: Metrics;
  /** Fleet events for the WebSocket; without it /events is not served. */
  bus?: EventBus;
  /** Signs and publishes immediate commands; without it /commands is not served. */
  commands?: { signer: CommandSigner; mqtt: MqttClient };
  /** Serves EMQX's HTTP auth hooks when set. */
  emqx?: { hookToken: string; controller: { username: string; passwordHash: string } };
  /** Where audio assets are stored; without it /assets is not served. */
  assets?: AssetStore;
  /** Largest asset upload in bytes (ASSET_MAX_BYTES). Default 50 MiB. */
  assetMaxBytes?: number;
  /** The audio pipeline (uploads, speech, tones); without it only downloads are served. */
  audio?: AudioServices;
  /** Which alerts need a second person's approval (ALERT_APPROVAL); alerts need `commands` and `audio`. */
  alertApproval?: ApprovalRule;
  /** Default seconds after issue before late receivers are escalated (ALERT_ESCALATE_AFTER_S). */
  alertEscalateAfterS?: number;
  /** CAP intake and export policy (CAP_SENDER, CAP_TRUSTED_SENDERS, CAP_GEOCODE_NAMES); default: trust no sender. */
  cap?: CapPolicy;
  /** Live speech (/live/sessions): the key live audio packets are signed with; needs `commands`. */
  live?: { signingKey: SigningKey; idleEndS?: number; opusBitrate?: number };
  /** The built dashboard to serve under /app/ (DASHBOARD_DIR); without it the app is not served. */
  dashboardDir?: string;
}

/** The controller's HTTP API. Each feature is a plugin; routes are schema-first. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { db, redis } = options;
  const app = Fastify({
    logger: options.logger ?? false,
    trustProxy: true,
    // Unknown fields are refused, not silently dropped: a misspelt "targets" must not go unnoticed.
    ajv: { customOptions: { removeAdditional: false } },
    schemaErrorFormatter,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setErrorHandler(problemHandler);
  app.setNotFoundHandler((request, reply) =>
    problemHandler(new Problem(404, 'Not Found', `no route ${request.method} ${request.url}`), request, reply),
  );

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Loa controller API',
        version: '0.1.0',
        description: 'Areas, receivers, content, schedules, alerts.',
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
          token: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ session: [] }, { token: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(cookie);
  await app.register(rateLimit, { global: false, redis, nameSpace: options.rateLimitNamespace ?? 'loa-rate-limit-' });

  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (bearer) {
      request.principal = await principalFromApiToken(db, bearer);
      if (!request.principal) throw new Problem(401, 'Unauthorized', 'invalid or expired API token');
      return;
    }
    const session = request.cookies[SESSION_COOKIE];
    if (session) request.principal = await principalFromSession(db, session);
  });

  await app.register(healthRoutes, { db, redis });
  if (options.dashboardDir) await app.register(dashboardRoutes, { dir: options.dashboardDir });
  const metrics = options.metrics ?? createMetrics(db);
  app.addHook('onResponse', observeHttp(metrics));
  await app.register(metricsRoutes, { metrics });
  await app.register(authRoutes, {
    db,
    sessionTtlMs: options.sessionTtlMs ?? 12 * 3600_000,
    loginRateLimit: options.loginRateLimit ?? 10,
  });
  await app.register(tokenRoutes, { db });
  await app.register(userRoutes, { db });
  await app.register(auditRoutes, { db });
  await app.register(areaRoutes, { db });
  await app.register(receiverRoutes, { db });
  await app.register(receiverTelemetryRoutes, { db, ...(options.now ? { now: options.now } : {}) });
  if (options.assets) await app.register(assetRoutes, { db, store: options.assets });
  const audio = options.audio;
  if (audio) {
    const shared = { db, jobs: audio.jobs, processing: audio.processing };
    await app.register(uploadRoutes, {
      ...shared,
      incomingDir: audio.incomingDir,
      ...(options.assetMaxBytes === undefined ? {} : { maxBytes: options.assetMaxBytes }),
    });
    await app.register(speechRoutes, { ...shared, speech: audio.speech });
  }
  const onScheduleChanged = options.onScheduleChanged;
  await app.register(contentRoutes, {
    db,
    // Receivers holding the content's airtimes get the new audio list.
    ...(onScheduleChanged
      ? { onContentChanged: async (id: string) => onScheduleChanged(await targetsUsingContent(db, id)) }
      : {}),
    ...(audio ? { onTextToSynthesise: (id: string) => audio.synthesiseContent(id) } : {}),
  });
  // One WebSocket server for every WebSocket route (/events, the live audio in).
  // Messages from clients are at most a speaker's audio chunk (2 s of 48 kHz stereo float: 768 kB).
  if (options.bus || options.live) await app.register(websocket, { options: { maxPayload: 1_048_576 } });
  if (options.bus) await app.register(eventRoutes, { db, bus: options.bus });
  if (options.commands) await app.register(commandRoutes, { db, ...options.commands });
  if (options.commands) await app.register(receiverActionRoutes, { db, ...options.commands });
  if (options.commands) await app.register(trustedKeyRoutes, { signer: options.commands.signer });
  if (options.emqx) await app.register(emqxHooks, { db, ...options.emqx });
  if (options.commands && options.live)
    await app.register(liveRoutes, {
      db,
      ...options.commands,
      signingKey: options.live.signingKey,
      ...(options.bus ? { bus: options.bus } : {}),
      ...(options.live.idleEndS ? { idleEndS: options.live.idleEndS } : {}),
      ...(options.live.opusBitrate ? { opus: { bitrate: options.live.opusBitrate } } : {}),
      log: (message, detail) => app.log.warn(detail, message),
    });
  if (options.commands && audio)
    await app.register(alertRoutes, {
      db,
      ...options.commands,
      speech: audio.speech,
      approval: options.alertApproval ?? 'actual-district',
      ...(options.bus ? { bus: options.bus } : {}),
      ...(options.alertEscalateAfterS ? { escalateAfterS: options.alertEscalateAfterS } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
  await app.register(alertDeliveryRoutes, { db });
  if (options.commands && audio)
    await app.register(capRoutes, {
      db,
      ...options.commands,
      speech: audio.speech,
      approval: options.alertApproval ?? 'actual-district',
      now: options.now ?? (() => new Date()),
      policy: options.cap ?? { ownSender: 'loa-controller', trusted: new Map(), geocodeNames: ['VN-GSO', 'loa:area'] },
      escalateAfterS: options.alertEscalateAfterS ?? 60,
    });
  const scheduling = {
    db,
    ...(options.now ? { now: options.now } : {}),
    ...(options.onScheduleChanged ? { onChanged: options.onScheduleChanged } : {}),
  };
  await app.register(scheduleRoutes, scheduling);
  await app.register(scheduleChangeRoutes, scheduling);
  await app.register(occurrenceRoutes, {
    ...scheduling,
    ...(options.commands ? { commands: { db, ...options.commands } } : {}),
  });
  await app.register(deliveryRoutes, { db });
  await app.register(receiverChangeRoutes, scheduling);
  return app;
}
