import { randomUUID } from 'node:crypto';
import type { AreaLevel } from '@loa/protocols';
import {
  CommandSigner,
  counterSequence,
  generateSigningKey,
  loadSigningKey,
  type PlayableItem,
  topics,
} from '@loa/protocols';
import type { SeenCommand, WireObserver } from './wire-observer.js';

export type ForgeryMethod = 'unknown-key' | 'tampered' | 'replayed';

/** The refusal reason each attack must meet on every receiver. */
export const EXPECTED_REFUSAL: Record<ForgeryMethod, string> = {
  'unknown-key': 'unknown_key',
  tampered: 'bad_signature',
  replayed: 'replayed',
};

/**
 * The attacks of Dallas 2017, staged at the broker: a command signed by a key nobody
 * trusts, a real command with its body changed, and a real command sent again. Each
 * answers the envelope id receivers will name when they refuse it.
 */
export async function injectForgery(
  observer: WireObserver,
  method: ForgeryMethod,
  area: { level: AreaLevel; areaCode: string },
  item: PlayableItem,
): Promise<string> {
  const topic = topics.areaCommand(area.level, area.areaCode);
  if (method === 'unknown-key') {
    const rogue = new CommandSigner({
      issuer: 'loa-controller',
      key: loadSigningKey(generateSigningKey()),
      nextSeq: counterSequence(Date.now()),
    });
    const envelope = await rogue.sign({
      kind: 'play.now',
      target: { type: 'area', ...area },
      body: { item, assets: [] },
      ttlMs: 60_000,
    });
    await observer.inject(topic, JSON.stringify(envelope));
    return envelope.id;
  }
  const real = lastCommandOn(observer, topic);
  if (!real)
    throw new Error(`no real command has been seen on ${topic} to ${method === 'tampered' ? 'tamper with' : 'replay'}`);
  const envelope = JSON.parse(real.payload.toString('utf8')) as { id: string; body: Record<string, unknown> };
  if (method === 'replayed') {
    await observer.inject(topic, real.payload);
    return envelope.id;
  }
  // Tampered: the attacker makes a real command louder and gives it a fresh id (a seen id
  // would be refused as a replay before its signature is even looked at); the signature
  // is the original's, so it no longer matches.
  const body = envelope.body as { item?: { volume?: number }; items?: Array<{ volume?: number }> };
  if (body.item) body.item.volume = body.item.volume === 100 ? 99 : 100;
  for (const item of body.items ?? []) item.volume = item.volume === 100 ? 99 : 100;
  if (!body.item && !body.items?.length) envelope.body.revision = Number(envelope.body.revision ?? 0) + 1;
  envelope.id = randomUUID();
  await observer.inject(topic, JSON.stringify(envelope));
  return envelope.id;
}

function lastCommandOn(observer: WireObserver, topic: string): SeenCommand | undefined {
  for (let i = observer.commands.length - 1; i >= 0; i--)
    if (observer.commands[i]?.topic === topic) return observer.commands[i];
  return undefined;
}
