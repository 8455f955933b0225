import { readEnvConfig, UrlSetting } from '@loa/protocols';
import { type Static, Type } from '@sinclair/typebox';

export const SimulatorConfigSchema = Type.Object({
  MQTT_URL: UrlSetting(['mqtt', 'mqtts', 'ws', 'wss'], 'mqtt://127.0.0.1:1883', 'MQTT 5 broker the fleet connects to'),
  CONTROLLER_URL: UrlSetting(['http', 'https'], 'http://127.0.0.1:8080', 'Controller API'),
  FLEET_SIZE: Type.Integer({ minimum: 1, maximum: 100_000, default: 150, description: 'Virtual receivers to start' }),
  SIM_USERNAME: Type.String({
    default: 'technician-10',
    minLength: 1,
    description: 'Controller user the fleet reads the registry as',
  }),
  SIM_PASSWORD: Type.String({
    default: 'loa-demo',
    minLength: 1,
    description: 'Its password (the demo password by default)',
  }),
  CLOCK_OFFSET_MS: Type.Integer({
    minimum: 0,
    maximum: 3_600_000,
    default: 2000,
    description: 'Each virtual receiver clock is off by a random amount up to this (either way)',
  }),
});
export type SimulatorConfig = Static<typeof SimulatorConfigSchema>;

export function loadSimulatorConfig(env: Record<string, string | undefined> = process.env): SimulatorConfig {
  return readEnvConfig(SimulatorConfigSchema, env);
}
