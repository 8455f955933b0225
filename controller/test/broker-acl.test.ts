import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topicFilter, topics } from '@loa/protocols';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerAccounts, renderAclFile, renderPasswordFile } from '../src/broker/broker-config.js';
import { hashMosquittoPassword, verifyMosquittoPassword } from '../src/broker/mosquitto-password.js';
import { issueReceiverCredentials } from '../src/broker/receiver-credentials.js';
import { seedDemoProvince } from '../src/demo/seed.js';
import { useFreshDatabase } from './support/database.js';

// A Mosquitto of our own on a free loopback port, configured from the generated files.
const database = useFreshDatabase();
let broker: ChildProcess;
let url: string;
const clients: MqttClient[] = [];
const credentials: Record<string, string> = {};

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

async function connect(username: string, password: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, {
    protocolVersion: 5,
    username,
    password,
    reconnectPeriod: 0,
    clientId: `${username}-${clients.length}`,
  });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  const db = database.db();
  await seedDemoProvince(db, { password: 'pw' });
  for (const id of ['rx-02680-01-1', 'rx-02683-01-1'])
    credentials[id] = (await issueReceiverCredentials(db, id)).password;
  credentials.controller = 'controller-secret';
  const accounts = await brokerAccounts(db, {
    username: 'controller',
    passwordHash: hashMosquittoPassword('controller-secret'),
  });
  const dir = mkdtempSync(join(tmpdir(), 'loa-broker-'));
  const port = await freePort();
  url = `mqtt://127.0.0.1:${port}`;
  writeFileSync(join(dir, 'passwords'), renderPasswordFile(accounts));
  writeFileSync(join(dir, 'acl'), renderAclFile(accounts));
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${join(dir, 'passwords')}`,
      `acl_file ${join(dir, 'acl')}`,
      'persistence false',
      'log_dest stderr',
      '',
    ].join('\n'),
  );
  // Mosquitto drops to its own user when started as root: let it read the files.
  for (const f of ['', 'passwords', 'acl', 'mosquitto.conf']) chmodSync(join(dir, f), f ? 0o644 : 0o755);
  broker = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      const probe = await mqtt.connectAsync(url, {
        protocolVersion: 5,
        username: 'controller',
        password: 'controller-secret',
        reconnectPeriod: 0,
      });
      await probe.endAsync();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  broker?.kill();
});

describe('broker access control from protocols ACL patterns (real Mosquitto)', () => {
  it('writes hashes Mosquitto accepts and only the right password opens', async () => {
    expect(verifyMosquittoPassword(hashMosquittoPassword('x'), 'x')).toBe(true);
    expect(verifyMosquittoPassword(hashMosquittoPassword('x'), 'y')).toBe(false);
    await expect(connect('rx-02680-01-1', 'wrong')).rejects.toThrow();
    await expect(connect('rx-02680-02-1', 'no credentials issued')).rejects.toThrow();
    await expect(connect('rx-02680-01-1', credentials['rx-02680-01-1'] as string)).resolves.toBeDefined();
  });

  it("lets a receiver subscribe to its own and its areas' command topics, not to another's", async () => {
    const rx = await connect('rx-02680-01-1', credentials['rx-02680-01-1'] as string);
    const granted = await rx.subscribeAsync(
      [
        topics.receiverCommand('rx-02680-01-1'),
        topics.areaCommand('commune', '02680'),
        topics.areaCommand('village', '02680-01'),
        topics.areaCommand('province', '10'),
      ],
      { qos: 1 },
    );
    expect(granted.map((g) => g.qos)).toEqual([1, 1, 1, 1]);
    // Mosquitto 2.0's acl_file grants any subscription and checks `read` at delivery:
    // what matters is that nothing addressed to others ever reaches this receiver.
    await rx.subscribeAsync(
      [
        topics.receiverCommand('rx-02683-01-1'),
        topics.areaCommand('commune', '02683'),
        topics.receiverEvents('rx-02683-01-1'),
      ],
      { qos: 1 },
    );
    const seen: string[] = [];
    rx.on('message', (topic) => seen.push(topic));
    const controller = await connect('controller', 'controller-secret');
    for (const topic of [
      topics.receiverCommand('rx-02683-01-1'),
      topics.areaCommand('commune', '02683'),
      topics.areaCommand('commune', '02680'),
    ]) {
      await controller.publishAsync(topic, '{}', { qos: 1 });
    }
    for (let i = 0; i < 40 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual([topics.areaCommand('commune', '02680')]);
  });

  it('delivers only what a receiver may publish as itself', async () => {
    const controller = await connect('controller', 'controller-secret');
    const seen: string[] = [];
    controller.on('message', (topic) => seen.push(topic));
    await controller.subscribeAsync(topicFilter('receiverEvents'), { qos: 1 });
    const rx = await connect('rx-02680-01-1', credentials['rx-02680-01-1'] as string);
    await rx.publishAsync(topics.receiverEvents('rx-02683-01-1'), '{"forged":true}', { qos: 1 }).catch(() => undefined);
    await rx.publishAsync(topics.areaCommand('commune', '02680'), '{"forged":true}', { qos: 1 }).catch(() => undefined);
    await rx.publishAsync(topics.receiverEvents('rx-02680-01-1'), '{"genuine":true}', { qos: 1 });
    for (let i = 0; i < 40 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual([topics.receiverEvents('rx-02680-01-1')]);
  });
});
