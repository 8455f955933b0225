import { readEnvConfig, UrlSetting } from '@loa/protocols';
import { type Static, Type } from '@sinclair/typebox';

/**
 * Connection settings of the agent that may come from the environment (overriding the
 * agent's config file, which arrives with the receiver service).
 */
export const AgentEnvSchema = Type.Object({
  MQTT_URL: UrlSetting(['mqtt', 'mqtts', 'ws', 'wss'], 'mqtt://127.0.0.1:1883', 'MQTT 5 broker'),
  CONTROLLER_URL: UrlSetting(['http', 'https'], 'http://127.0.0.1:8080', 'Controller, for content downloads'),
});
export type AgentEnv = Static<typeof AgentEnvSchema>;

export function loadAgentEnv(env: Record<string, string | undefined> = process.env): AgentEnv {
  return readEnvConfig(AgentEnvSchema, env);
}
