import { readEnvConfig, UrlSetting } from '@loa/protocols';
import { type Static, Type } from '@sinclair/typebox';

/** Build-time settings of the web app. */
export const DashboardConfigSchema = Type.Object({
  CONTROLLER_URL: UrlSetting(['http', 'https'], 'http://127.0.0.1:8080', 'Controller API the app talks to'),
  MAP_TILE_URL: Type.String({
    default: '',
    pattern: '^(https?://\\S*\\{z\\}\\S*)?$',
    description: 'Map tile URL template with {z}/{x}/{y}; empty draws areas and receivers on a plain background',
  }),
});
export type DashboardConfig = Static<typeof DashboardConfigSchema>;

export function loadDashboardConfig(env: Record<string, string | undefined> = process.env): DashboardConfig {
  return readEnvConfig(DashboardConfigSchema, env);
}
