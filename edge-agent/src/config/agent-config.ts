import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AREA_LEVELS, AreaCode, formatIssues, ReceiverId, TrustedKey, UrlSetting, validate } from '@loa/protocols';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { loadAgentEnv } from './agent-env.js';

/** TrustedKey without its $id (a schema id may be compiled only once per validator). */
const TrustedKeyEntry = Type.Object(TrustedKey.properties, { additionalProperties: false });

const Ms = (def: number, description: string) => Type.Integer({ minimum: 0, default: def, description });

/**
 * The receiver's config file (JSON), installed with the receiver. Everything has a
 * sensible default except who the receiver is, where it is, and whom it trusts.
 */
export const AgentConfigSchema = Type.Object(
  {
    receiverId: ReceiverId,
    areas: Type.Array(
      Type.Object(
        { level: Type.Union(AREA_LEVELS.map((l) => Type.Literal(l))), areaCode: AreaCode },
        { additionalProperties: false },
      ),
      { minItems: 1, description: 'The village and every area above it (province first or last, any order)' },
    ),
    mqtt: Type.Object(
      {
        url: UrlSetting(['mqtt', 'mqtts', 'ws', 'wss'], 'mqtt://127.0.0.1:1883', 'MQTT 5 broker'),
        username: Type.Optional(Type.String({ description: 'Default: the receiver id' })),
        password: Type.Optional(Type.String()),
        passwordFile: Type.Optional(Type.String({ description: 'File holding the password (preferred)' })),
      },
      { additionalProperties: false, default: {} },
    ),
    controllerUrl: UrlSetting(['http', 'https'], 'http://127.0.0.1:8080', 'Controller, for content downloads'),
    trustedKeys: Type.Array(TrustedKeyEntry, {
      default: [],
      description: 'Public keys whose signed commands are obeyed (loa-keys public prints an entry)',
    }),
    trustedKeysFile: Type.Optional(Type.String({ description: 'JSON file with more trusted keys (an array)' })),
    dataDir: Type.String({ default: '/var/lib/loa-agent', description: 'Schedule, content, replay state, outbox' }),
    audio: Type.Object(
      {
        sink: Type.Union([Type.Literal('alsa'), Type.Literal('wav'), Type.Literal('null')], { default: 'alsa' }),
        device: Type.String({ default: 'default', description: 'ALSA device (aplay -D)' }),
        wavDir: Type.Optional(Type.String({ description: 'For sink "wav": where recordings go' })),
        volume: Type.Integer({ minimum: 0, maximum: 100, default: 80, description: 'Master volume' }),
      },
      { additionalProperties: false, default: {} },
    ),
    amplifier: Type.Object(
      {
        gpio: Type.Union([Type.Literal('gpiod'), Type.Literal('virtual')], { default: 'virtual' }),
        chip: Type.String({ default: 'gpiochip0' }),
        relayLine: Type.Integer({ minimum: 0, default: 17, description: 'GPIO line offset of the amplifier relay' }),
        activeLow: Type.Boolean({ default: false }),
        warmUpMs: Ms(1500, 'Wait after power-on before sound'),
        holdMs: Ms(5000, 'Keep powered after an item, so back-to-back items do not click the relay'),
        lineCheckCommand: Type.Optional(
          Type.String({ description: 'Prints {"ok":true,"speakerLineOhm":8} for the silent line check' }),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    health: Type.Object(
      {
        heartbeatMs: Ms(10_000, 'Telemetry period (the controller flags a receiver offline after 25 s silence)'),
        modemCommand: Type.Optional(
          Type.String({ description: 'Prints {"type":"4g","rssiDbm":-85,"operator":"Viettel"}' }),
        ),
        powerCommand: Type.Optional(Type.String({ description: 'Prints {"mains":true,"batteryPct":90}' })),
        temperatureFile: Type.String({ default: '/sys/class/thermal/thermal_zone0/temp' }),
        firmwareFile: Type.String({ default: '/etc/loa-firmware' }),
        rebootCommand: Type.String({ default: 'systemctl reboot' }),
      },
      { additionalProperties: false, default: {} },
    ),
    cache: Type.Object(
      {
        budgetBytes: Type.Integer({ minimum: 1_000_000, default: 2_000_000_000 }),
        concurrency: Type.Integer({ minimum: 1, maximum: 8, default: 2 }),
      },
      { additionalProperties: false, default: {} },
    ),
    clockSync: Type.Object(
      {
        samples: Type.Integer({ minimum: 1, maximum: 32, default: 8 }),
        everyMs: Ms(15 * 60_000, 'Resynchronise this often'),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);
export type AgentConfig = Static<typeof AgentConfigSchema>;

export class AgentConfigError extends Error {}

/**
 * Reads and checks the config file; relative paths in it are relative to the file.
 * MQTT_URL and CONTROLLER_URL in the environment override the file (for tests and
 * staging). Throws AgentConfigError naming every problem.
 */
export function loadAgentConfig(file: string, env: Record<string, string | undefined> = process.env): AgentConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new AgentConfigError(`cannot read config ${file}: ${(error as Error).message}`);
  }
  return parseAgentConfig(raw, dirname(resolve(file)), env);
}

export function parseAgentConfig(
  raw: unknown,
  baseDir: string,
  env: Record<string, string | undefined> = process.env,
): AgentConfig {
  const checked = validate(AgentConfigSchema, Value.Default(AgentConfigSchema, structuredClone(raw)));
  if (!checked.ok) throw new AgentConfigError(`invalid agent config: ${formatIssues(checked.errors)}`);
  const config = checked.value;
  const overrides = loadAgentEnv({
    MQTT_URL: env.MQTT_URL ?? config.mqtt.url,
    CONTROLLER_URL: env.CONTROLLER_URL ?? config.controllerUrl,
  });
  const at = (path: string) => resolve(baseDir, path);
  const withPaths: AgentConfig = {
    ...config,
    mqtt: {
      ...config.mqtt,
      url: overrides.MQTT_URL,
      ...(config.mqtt.passwordFile ? { passwordFile: at(config.mqtt.passwordFile) } : {}),
    },
    controllerUrl: overrides.CONTROLLER_URL,
    dataDir: at(config.dataDir),
    audio: { ...config.audio, ...(config.audio.wavDir ? { wavDir: at(config.audio.wavDir) } : {}) },
    ...(config.trustedKeysFile ? { trustedKeysFile: at(config.trustedKeysFile) } : {}),
  };
  const keys = trustedKeysOf(withPaths);
  if (keys.length === 0)
    throw new AgentConfigError(
      'no trusted keys: add the controller key to "trustedKeys" (loa-keys public <key file> prints it)',
    );
  return withPaths;
}

/** The keys whose commands this receiver obeys: the config's and those in trustedKeysFile. */
export function trustedKeysOf(config: AgentConfig): TrustedKey[] {
  if (!config.trustedKeysFile) return config.trustedKeys;
  let extra: unknown;
  try {
    extra = JSON.parse(readFileSync(config.trustedKeysFile, 'utf8'));
  } catch (error) {
    throw new AgentConfigError(`cannot read trusted keys ${config.trustedKeysFile}: ${(error as Error).message}`);
  }
  const checked = validate(Type.Array(TrustedKeyEntry), extra);
  if (!checked.ok) throw new AgentConfigError(`invalid trusted keys file: ${formatIssues(checked.errors)}`);
  return [...config.trustedKeys, ...checked.value];
}

/** The broker password: from passwordFile (trimmed) or inline. */
export function mqttPasswordOf(config: AgentConfig): string | undefined {
  if (config.mqtt.passwordFile) return readFileSync(config.mqtt.passwordFile, 'utf8').trim();
  return config.mqtt.password;
}
