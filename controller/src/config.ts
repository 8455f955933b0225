import { PortSetting, readEnvConfig, UrlSetting } from '@loa/protocols';
import { type Static, Type } from '@sinclair/typebox';

/** Every setting of the controller, read from the environment with loopback defaults. */
export const ControllerConfigSchema = Type.Object({
  DATABASE_URL: UrlSetting(
    ['postgresql', 'postgres'],
    'postgresql://postgres@127.0.0.1:5432/loa',
    'PostgreSQL database',
  ),
  REDIS_URL: UrlSetting(['redis', 'rediss'], 'redis://127.0.0.1:6379', 'Redis for BullMQ jobs'),
  MQTT_URL: UrlSetting(['mqtt', 'mqtts', 'ws', 'wss'], 'mqtt://127.0.0.1:1883', 'MQTT 5 broker'),
  HTTP_HOST: Type.String({ default: '127.0.0.1', minLength: 1, description: 'Address the HTTP API listens on' }),
  HTTP_PORT: PortSetting(8080, 'Port of the HTTP API and dashboard'),
  SIGNING_KEY_FILE: Type.String({
    default: 'data/signing-key.jwk',
    minLength: 1,
    description: 'Ed25519 command-signing key (JWK, made by loa-keys generate); relative to the working directory',
  }),
  ASSET_DIR: Type.String({
    default: 'data/assets',
    minLength: 1,
    description: 'Directory of the stored audio assets (by SHA-256); relative to the working directory',
  }),
  ASSET_MAX_BYTES: Type.Integer({
    default: 52_428_800,
    minimum: 1,
    maximum: 2_147_483_647,
    description: 'Largest audio upload accepted, in bytes (default 50 MiB)',
  }),
  ASSET_MAX_DURATION_S: Type.Integer({
    default: 14_400,
    minimum: 1,
    maximum: 86_400,
    description: 'Longest recording accepted, in seconds (default 4 h)',
  }),
  AUDIO_DECODER: Type.Union([Type.Literal('auto'), Type.Literal('ffmpeg'), Type.Literal('npm')], {
    default: 'auto',
    description: 'auto: ffmpeg where installed, else the npm decoders (WAV, MP3, Ogg Opus); ffmpeg or npm: only that',
  }),
  FFMPEG_PATH: Type.String({ default: 'ffmpeg', minLength: 1, description: 'The ffmpeg command' }),
  LOUDNESS_TARGET_LUFS: Type.Number({
    default: -16,
    minimum: -40,
    maximum: -5,
    description: 'Integrated loudness every asset is normalised to (EBU R128)',
  }),
  TRUE_PEAK_CEILING_DBTP: Type.Number({
    default: -1,
    minimum: -12,
    maximum: 0,
    description:
      'Highest true peak of the signal an asset is encoded from (the limiter aims 1 dB lower, for the codec)',
  }),
  OPUS_BITRATE: Type.Integer({
    default: 24_000,
    minimum: 6_000,
    maximum: 128_000,
    description: 'Opus bits per second',
  }),
  OPUS_FRAME_MS: Type.Integer({ default: 20, enum: [10, 20, 40, 60], description: 'Opus frame length in ms' }),
  TTS_ENGINE: Type.Union([Type.Literal('espeak-ng'), Type.Literal('http'), Type.Literal('none')], {
    default: 'espeak-ng',
    description: 'Speech engine for text variants: espeak-ng (offline), http (a TTS service) or none',
  }),
  ESPEAK_NG_PATH: Type.String({ default: 'espeak-ng', minLength: 1, description: 'The espeak-ng command' }),
  TTS_HTTP_URL: Type.String({
    default: '',
    description: 'TTS service URL (TTS_ENGINE=http): POST {text, voice, language}',
  }),
  TTS_HTTP_VOICES: Type.String({ default: '', description: 'Voices of the TTS service by language: "vie=voice,..."' }),
  ALERT_APPROVAL: Type.Union(
    [Type.Literal('actual-district'), Type.Literal('actual'), Type.Literal('always'), Type.Literal('never')],
    {
      default: 'actual-district',
      description:
        'Which alerts need a second person to approve them before issue: Actual ones to a district or the province (actual-district), every Actual one, always, never',
    },
  ),
  ALERT_ESCALATE_AFTER_S: Type.Integer({
    default: 60,
    minimum: 10,
    maximum: 3600,
    description:
      'Receivers that have not started an alert this many seconds after issue are escalated (an alert may set its own)',
  }),
  ALERT_ESCALATION_WEBHOOK: Type.String({
    default: '',
    description: 'URL POSTed (JSON) the escalated receivers of an alert, for phone follow-up; empty for none',
  }),
  CAP_SENDER: Type.String({
    default: 'loa-controller',
    pattern: '^[^\\s,<&]+$',
    description: 'Our CAP sender id in exported alerts (no spaces or commas)',
  }),
  CAP_TRUSTED_SENDERS: Type.String({
    default: '',
    description: 'CAP senders taken in, each with the area codes it may alert: "sender=AREA|AREA;sender2=AREA"',
  }),
  CAP_GEOCODE_NAMES: Type.String({
    default: 'VN-GSO,loa:area',
    description: 'CAP geocode valueNames whose value is one of our area codes',
  }),
  CAP_FEEDS: Type.String({ default: '', description: 'CAP or Atom feed URLs to poll, space-separated' }),
  CAP_FEED_POLL_S: Type.Integer({
    default: 60,
    minimum: 10,
    maximum: 86_400,
    description: 'How often feeds are polled',
  }),
  RELAY_RETRY_S: Type.Integer({
    default: 15,
    minimum: 1,
    maximum: 3600,
    description: 'While a relayed stream is dead air (the fallback airs), it is tried again this often',
  }),
  RELAY_TIMEOUT_S: Type.Integer({
    default: 10,
    minimum: 1,
    maximum: 120,
    description: 'How long ffmpeg waits to connect to a relayed stream or for its next bytes before giving up',
  }),
  DASHBOARD_DIR: Type.String({
    default: 'dashboard/dist/app',
    minLength: 1,
    description:
      'The built dashboard (npm run build) the controller serves under /app/; relative to the working directory',
  }),
  TELEMETRY_SAMPLE_S: Type.Integer({
    default: 300,
    minimum: 0,
    maximum: 86_400,
    description:
      'Seconds between the telemetry reports kept per receiver for the history charts (a change of faults is kept at once); 0 keeps every report',
  }),
  TELEMETRY_RETENTION_DAYS: Type.Integer({
    default: 14,
    minimum: 1,
    maximum: 3650,
    description:
      "Days receivers' telemetry reports are kept for the history charts (GET /receivers/{id}/telemetry); older ones are deleted hourly",
  }),
  LIVE_IDLE_END_S: Type.Integer({
    default: 30,
    minimum: 5,
    maximum: 3600,
    description:
      'A live session on air with no audio from its speaker (or stream) for this many seconds ends by itself',
  }),
  EMQX_HOOK_TOKEN: Type.String({
    default: '',
    description: 'Shared secret for the EMQX HTTP auth hooks; empty: hooks not served',
  }),
  MQTT_CONTROLLER_PASSWORD: Type.String({
    default: '',
    description: "The controller's broker password (also in MQTT_URL as user:password@)",
  }),
  COMMAND_ISSUER: Type.String({
    default: 'loa-controller',
    pattern: '^[a-z0-9][a-z0-9_.-]{0,63}$',
    description: 'Issuer name in signed commands',
  }),
  QUEUE_PREFIX: Type.String({
    default: 'bull',
    pattern: '^[A-Za-z0-9_.:{}-]{1,100}$',
    description:
      'Redis key prefix of the BullMQ queues (provisioning, horizon, presence); instances sharing work share it',
  }),
  RATE_LIMIT_NAMESPACE: Type.String({
    default: 'loa-rate-limit-',
    pattern: '^[A-Za-z0-9_.:{}-]{1,100}$',
    description: 'Redis key prefix of the sign-in rate-limit counters',
  }),
  EVENTS_CHANNEL: Type.String({
    default: 'loa:fleet-events',
    pattern: '^[A-Za-z0-9_.:{}-]{1,100}$',
    description: 'Redis pub/sub channel that carries live fleet events between instances',
  }),
  INGEST_GROUP: Type.String({
    default: 'loa-controller',
    pattern: '^[A-Za-z0-9_-]{1,64}$',
    description: "MQTT shared-subscription group of the receivers' reports; instances in one group split them",
  }),
});
export type ControllerConfig = Static<typeof ControllerConfigSchema>;

/** Loads the settings or, for a command-line program, says which are wrong and exits. */
export function loadControllerConfigOrExit(env: Record<string, string | undefined> = process.env): ControllerConfig {
  try {
    return loadControllerConfig(env);
  } catch (error) {
    console.error(`${(error as Error).message}\nfix these environment variables (see README.md, Configuration)`);
    process.exit(2);
  }
}

export function loadControllerConfig(env: Record<string, string | undefined> = process.env): ControllerConfig {
  return readEnvConfig(ControllerConfigSchema, env);
}
