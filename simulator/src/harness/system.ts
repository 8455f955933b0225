import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  brokerAccounts,
  createDatabase,
  createFreshDatabase,
  hashMosquittoPassword,
  issueReceiverCredentials,
  type LoadProvince,
  loadControllerConfig,
  renderAclFile,
  renderPasswordFile,
  seedDemoProvince,
  seedLoadProvince,
} from '@loa/controller';
import { generateSigningKey, type PrivateKeyJwk, TOPIC_ROOT } from '@loa/protocols';
import { ControllerRegistry } from '../registry/controller-registry.js';
import { ControllerProcess } from './controller-process.js';
import { freePort } from './free-port.js';
import { Mosquitto, PROBE_PASSWORD, PROBE_USER } from './mosquitto.js';

export type ProvinceChoice = { demo: true } | { receivers: number; perVillage?: number; villagesPerCommune?: number };

export interface SystemOptions {
  province: ProvinceChoice;
  /**
   * The broker checks who connects: every receiver gets its own credentials (issued as a
   * technician would, stored as a hash), the controller its own account, and Mosquitto
   * the password and ACL files the controller's broker:config writes (each receiver may
   * publish and read only its own topics and its areas' commands).
   */
  brokerAuth?: boolean;
  /** Password of every seeded user. */
  password?: string;
  /** Extra controller settings (environment variables). */
  controllerEnv?: Record<string, string>;
  log?: (message: string) => void;
}

/**
 * The whole system, private to one run: a fresh PostgreSQL database with a province, a
 * Mosquitto of its own, and the real controller as a process, on free loopback ports,
 * with queue, channel and group names of its own so it disturbs nothing else on the
 * shared Redis. Receivers are added by the caller (a fleet) against `broker.url`.
 */
export class System {
  private constructor(
    readonly broker: Mosquitto,
    readonly controller: ControllerProcess,
    readonly databaseUrl: string,
    private readonly dropDatabase: () => Promise<void>,
    private readonly dir: string,
    readonly password: string,
    readonly signingKey: PrivateKeyJwk,
    /** The generated province, when not the demo one. */
    readonly province: LoadProvince | null,
    /** Each receiver's MQTT password, when the broker checks (brokerAuth). */
    readonly receiverPasswords: ReadonlyMap<string, string>,
    /** Where the harness itself connects to the broker (with its own account when it checks). */
    readonly observerUrl: string,
  ) {}

  static async start(options: SystemOptions): Promise<System> {
    const log = options.log ?? (() => {});
    const password = options.password ?? 'loa-sim';
    const base = loadControllerConfig();
    log('system: creating a fresh database');
    const fresh = await createFreshDatabase(base.DATABASE_URL, 'loa_sim');
    // Made after the database, so a database that cannot be made leaves no directory behind.
    const dir = mkdtempSync(join(tmpdir(), 'loa-sim-'));
    const cleanups: Array<() => Promise<void>> = [() => fresh.drop(), async () => rmSync(dir, { recursive: true })];
    try {
      const db = createDatabase(fresh.url);
      let province: LoadProvince | null = null;
      const receiverPasswords = new Map<string, string>();
      const controllerPassword = randomBytes(24).toString('base64url');
      let auth: { passwords: string; acl: string } | undefined;
      try {
        if ('demo' in options.province) await seedDemoProvince(db, { password });
        else province = await seedLoadProvince(db, { ...options.province, password });
        if (options.brokerAuth) {
          for (const { id } of await db.receiver.findMany({ where: { enabled: true }, select: { id: true } }))
            receiverPasswords.set(id, (await issueReceiverCredentials(db, id)).password);
          const accounts = await brokerAccounts(db, {
            username: 'controller',
            passwordHash: hashMosquittoPassword(controllerPassword),
          });
          // The harness's own account sees everything and may inject commands: the
          // attacker with broker access that forged-command scenarios play.
          accounts.push({
            username: PROBE_USER,
            passwordHash: hashMosquittoPassword(PROBE_PASSWORD),
            rules: [
              { access: 'subscribe', topic: `${TOPIC_ROOT}/#` },
              { access: 'publish', topic: `${TOPIC_ROOT}/cmd/#` },
              { access: 'publish', topic: 'loa-bench/#' },
            ],
          });
          auth = { passwords: renderPasswordFile(accounts), acl: renderAclFile(accounts) };
        }
      } finally {
        await db.$disconnect();
      }
      log(`system: province seeded${province ? ` (${province.receivers.length} receivers)` : ' (demo)'}`);
      const signingKey = generateSigningKey();
      const keyFile = join(dir, 'signing-key.jwk');
      writeFileSync(keyFile, JSON.stringify(signingKey), { mode: 0o600 });
      const broker = await Mosquitto.start(auth);
      cleanups.unshift(() => broker.close());
      log(`system: broker on ${broker.url}`);
      const run = `sim${randomUUID().slice(0, 8)}`;
      const controller = new ControllerProcess(
        {
          DATABASE_URL: fresh.url,
          MQTT_URL: auth ? `mqtt://controller:${controllerPassword}@127.0.0.1:${broker.port}` : broker.url,
          ...(auth ? { MQTT_CONTROLLER_PASSWORD: controllerPassword } : {}),
          HTTP_HOST: '127.0.0.1',
          HTTP_PORT: String(await freePort()),
          SIGNING_KEY_FILE: keyFile,
          ASSET_DIR: join(dir, 'assets'),
          COMMAND_ISSUER: 'loa-controller',
          QUEUE_PREFIX: `${run}-bull`,
          RATE_LIMIT_NAMESPACE: `${run}-rate-`,
          EVENTS_CHANNEL: `${run}:events`,
          INGEST_GROUP: run,
          // The seeded week's programmes stay text: a scenario airs only what it schedules.
          TTS_ENGINE: 'none',
          ...options.controllerEnv,
        },
        join(dir, 'controller.log'),
      );
      cleanups.unshift(() => controller.close());
      await controller.start();
      log(`system: controller ready at ${controller.url}`);
      return new System(
        broker,
        controller,
        fresh.url,
        fresh.drop,
        dir,
        password,
        signingKey,
        province,
        receiverPasswords,
        auth ? `mqtt://${PROBE_USER}:${PROBE_PASSWORD}@127.0.0.1:${broker.port}` : broker.url,
      );
    } catch (error) {
      for (const cleanup of cleanups) await cleanup().catch(() => {});
      throw error;
    }
  }

  /** A signed-in API client for one of the seeded users. */
  async as(username: string): Promise<ControllerRegistry> {
    return new ControllerRegistry(this.controller.url).signIn(username, this.password).catch((error: Error) => {
      const users = this.province
        ? `admin-lp, technician-lp, emergency-lp or official-<commune code in lower case>, e.g. official-${this.province.communes[0]?.toLowerCase()}`
        : 'admin, technician-10, emergency-<area code> or official-<commune code>, e.g. official-02680';
      throw new Error(`${error.message}; the users of this province are ${users}`);
    });
  }

  async stop(): Promise<void> {
    await this.controller.close();
    await this.broker.close();
    await this.dropDatabase().catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }
}
