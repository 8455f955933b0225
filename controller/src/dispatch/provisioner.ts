import type { CommandSigner } from '@loa/protocols';
import type { MqttClient } from 'mqtt';
import type { Database } from '../database/client.js';
import { DEFAULT_HORIZON_MS } from '../scheduling/horizon.js';
import { publishCommand } from './command-publisher.js';
import { buildProvision } from './provision-builder.js';
import { databaseSequence } from './sequence.js';

export type ProvisionTarget = { areaId: string } | { receiverId: string };

/** The provisioning targets of schedule targets (each an area or one receiver), without repeats. */
export function provisionTargetsOf(
  targets: Array<{ areaId: string | null; receiverId: string | null }>,
): ProvisionTarget[] {
  const unique = new Map<string, ProvisionTarget>();
  for (const t of targets) {
    const target = t.areaId ? { areaId: t.areaId } : t.receiverId ? { receiverId: t.receiverId } : null;
    if (target) unique.set(targetKey(target), target);
  }
  return [...unique.values()];
}

export function targetKey(target: ProvisionTarget): string {
  return 'areaId' in target ? `area:${target.areaId}` : `receiver:${target.receiverId}`;
}

/**
 * Sends a target its schedule for the horizon as one signed `schedule.provision`, then
 * marks the deliveries it carries as provisioned. Re-running it is harmless: the newer
 * revision replaces the older one on the receivers.
 */
export class Provisioner {
  readonly #revisions;

  constructor(
    private readonly deps: {
      db: Database;
      mqtt: MqttClient;
      signer: CommandSigner;
      horizonMs?: number;
      now?: () => Date;
    },
  ) {
    this.#revisions = databaseSequence(deps.db, 'provision-revision');
  }

  async provision(target: ProvisionTarget) {
    const { db } = this.deps;
    const now = (this.deps.now ?? (() => new Date()))();
    const horizonMs = this.deps.horizonMs ?? DEFAULT_HORIZON_MS;
    const plan = await buildProvision(
      db,
      target,
      { from: now, to: new Date(now.getTime() + horizonMs) },
      await this.#revisions(),
    );
    // Valid until the horizon ends: the receiver keeps playing it if the link drops.
    const envelope = await this.deps.signer.sign({
      kind: 'schedule.provision',
      target: plan.target,
      body: plan.body,
      ttlMs: horizonMs,
    });
    await publishCommand(this.deps.mqtt, envelope, now.getTime());
    await db.dispatchedCommand.create({
      data: {
        id: envelope.id,
        kind: envelope.kind,
        targetKey: targetKey(target),
        occurrenceIds: plan.occurrenceIds,
        issuedAt: new Date(envelope.issuedAt),
        expiresAt: new Date(envelope.expiresAt),
      },
    });
    const receiverFilter =
      'receiverId' in target
        ? { receiverId: target.receiverId }
        : {
            receiver: {
              village: {
                path: { startsWith: (await db.area.findUniqueOrThrow({ where: { id: target.areaId } })).path },
              },
            },
          };
    const marked = await db.delivery.updateMany({
      where: { occurrenceId: { in: plan.occurrenceIds }, state: 'planned', ...receiverFilter },
      data: { state: 'provisioned', provisionedAt: now },
    });
    return {
      commandId: envelope.id,
      revision: plan.body.revision,
      items: plan.body.items.length,
      withoutAudio: plan.withoutAudio.length,
      provisioned: marked.count,
    };
  }
}
