import type { AssetRef, CommandBody, CommandTarget, ScheduledItem } from '@loa/protocols';
import type { Database } from '../database/client.js';
import { audioSegments, preludeTones } from './audio-segments.js';

export interface ProvisionPlan {
  target: CommandTarget;
  body: CommandBody<'schedule.provision'>;
  occurrenceIds: string[];
  /** Items left out because no language had audio yet (recorded or synthesised). */
  withoutAudio: string[];
}

/**
 * The schedule a target (an area, or one receiver) must hold for the coming horizon:
 * every planned occurrence of the schedules aimed at exactly that target, each with its
 * languages in airing order (the schedule's, else the area's) and the audio assets to
 * fetch ahead of airtime. Relay airtimes are left out (streamed live when they come);
 * their deliveries stay planned until the receivers report the live session.
 */
export async function buildProvision(
  db: Database,
  target: { areaId: string } | { receiverId: string },
  window: { from: Date; to: Date },
  revision: number,
): Promise<ProvisionPlan> {
  const area = 'areaId' in target ? await db.area.findUniqueOrThrow({ where: { id: target.areaId } }) : null;
  const receiver =
    'receiverId' in target
      ? await db.receiver.findUniqueOrThrow({ where: { id: target.receiverId }, include: { village: true } })
      : null;
  const defaultLanguages = (area ?? receiver?.village)?.languages ?? ['vie'];
  const occurrences = await db.occurrence.findMany({
    where: {
      status: 'planned',
      startsAt: { gte: window.from, lt: window.to },
      schedule: {
        enabled: true,
        // Relays have no file to hold: the controller streams them live at airtime (src/relay/).
        relayUrl: null,
        targets: { some: 'areaId' in target ? { areaId: target.areaId } : { receiverId: target.receiverId } },
      },
    },
    include: { schedule: { include: { content: { include: { variants: { include: { asset: true } } } } } } },
    orderBy: { startsAt: 'asc' },
  });
  const items: ScheduledItem[] = [];
  const assets = new Map<string, AssetRef>();
  const preludeOf = await preludeTones(db);
  const withoutAudio: string[] = [];
  for (const o of occurrences) {
    const s = o.schedule;
    const languages = s.languages.length > 0 ? s.languages : defaultLanguages;
    const { segments, assets: needed } = audioSegments(s.content.variants, languages);
    for (const asset of needed) assets.set(asset.sha256, asset);
    if (segments.length === 0) {
      withoutAudio.push(o.id);
      continue;
    }
    items.push({
      itemId: o.id,
      title: s.title.slice(0, 200),
      priority: s.priority,
      startMode: s.startMode,
      ...(s.waitS === null ? {} : { waitS: s.waitS }),
      volume: s.volume,
      repeat: s.repeat,
      prelude: s.prelude,
      ...withPrelude(preludeOf(s.prelude), assets),
      segments,
      startAt: o.startsAt.getTime(),
      endBy: o.endsAt.getTime(),
    });
  }
  const commandTarget: CommandTarget = area
    ? { type: 'area', level: area.level, areaCode: area.code }
    : { type: 'receiver', receiverId: receiver?.id as string };
  return {
    target: commandTarget,
    body: {
      revision,
      horizonStart: window.from.getTime(),
      horizonEnd: window.to.getTime(),
      items,
      assets: [...assets.values()],
    },
    occurrenceIds: items.map((i) => i.itemId),
    withoutAudio,
  };
}

/** The prelude's tone, its asset added to those to fetch. */
function withPrelude(tone: { preludeSha256?: string; asset?: AssetRef }, assets: Map<string, AssetRef>) {
  if (!tone.preludeSha256 || !tone.asset) return {};
  assets.set(tone.asset.sha256, tone.asset);
  return { preludeSha256: tone.preludeSha256 };
}
