import { randomBytes } from 'node:crypto';
import type { Database } from '../database/client.js';
import { hashMosquittoPassword } from './mosquitto-password.js';

/**
 * Gives a receiver new MQTT credentials: its id as username and a fresh random password,
 * returned once and stored only as a hash. The broker configuration must be regenerated
 * for it to take effect (brokerAccounts).
 */
export async function issueReceiverCredentials(
  db: Database,
  receiverId: string,
): Promise<{ username: string; password: string }> {
  const password = randomBytes(32).toString('base64url');
  await db.receiver.update({ where: { id: receiverId }, data: { mqttPasswordHash: hashMosquittoPassword(password) } });
  return { username: receiverId, password };
}
