import { type Static, type TObject, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { validate } from '../validation/validate.js';

/**
 * Reads a package's settings from environment variables, in one place per package:
 * defaults applied, every variable checked, and one error that names each bad variable.
 * Shared here because every part reads its broker, database and Redis URLs the same way.
 */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** A URL variable restricted to some schemes (mqtt:, redis:, ...). */
export function UrlSetting(schemes: string[], defaultValue: string, description: string) {
  const pattern = `^(${schemes.map((s) => s.replace(/[^a-z0-9+]/g, '')).join('|')})://[^\\s]+$`;
  return Type.String({ pattern, default: defaultValue, description });
}

export function PortSetting(defaultValue: number, description: string) {
  return Type.Integer({ minimum: 0, maximum: 65535, default: defaultValue, description });
}

export function readEnvConfig<T extends TObject>(
  schema: T,
  env: Record<string, string | undefined> = process.env,
): Static<T> {
  const raw: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(schema.properties)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    raw[name] = property.type === 'integer' || property.type === 'number' ? numberOrText(value) : value;
  }
  const withDefaults = Value.Default(schema, raw);
  const result = validate(schema, withDefaults);
  if (!result.ok) {
    throw new ConfigError(
      result.errors.map((e) => {
        const name = e.path.split('/')[1];
        const shown = name ? JSON.stringify(env[name]) : '';
        return name ? `${name}=${shown}: ${e.message.replace(`/${name} `, '')}` : e.message;
      }),
    );
  }
  return result.value;
}

function numberOrText(value: string): number | string {
  return /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
}

/** Describes the settings of a schema, for --help output and README tables. */
export function describeEnvConfig(schema: TObject): Array<{ name: string; default: unknown; description: string }> {
  return Object.entries(schema.properties).map(([name, p]) => ({
    name,
    default: (p as { default?: unknown }).default,
    description: (p as { description?: string }).description ?? '',
  }));
}
