import { randomUUID } from 'node:crypto';
import type { CommandBody, CommandTarget } from '@loa/protocols';
import type { Database } from '../database/client.js';
import { notFound, Problem } from '../http/problem.js';
import type { ResolvedTargets } from '../scheduling/targets.js';
import { audioSegments, preludeTones } from './audio-segments.js';
import { commandTargetsOf } from './immediate-commands.js';

export interface PlayNowRequest {
  contentId: string;
  priority: 'normal' | 'priority' | 'emergency';
  startMode: 'hard' | 'next';
  volume: number;
  repeat: number;
  prelude: 'none' | 'chime' | 'siren';
  languages: string[];
}

/**
 * One `play.now` per target, each carrying the languages of that target (its own order)
 * unless the caller fixed them. All share one item id, so proof-of-play from every
 * receiver names the same item. Refused (422) when no target would hear anything.
 */
export async function playNowCommands(db: Database, request: PlayNowRequest, targets: ResolvedTargets) {
  const content = await db.content.findUnique({
    where: { id: request.contentId },
    include: { variants: { include: { asset: true } } },
  });
  if (!content) throw notFound(`no content ${request.contentId}`);
  const areaLanguages = new Map(
    (
      await db.area.findMany({
        where: { id: { in: [...targets.areas.map((a) => a.id), ...targets.receivers.map((r) => r.village.id)] } },
        select: { code: true, languages: true },
      })
    ).map((a) => [a.code, a.languages]),
  );
  const itemId = `play-${randomUUID()}`;
  const prelude = (await preludeTones(db))(request.prelude);
  const commands: Array<{ target: CommandTarget; body: CommandBody<'play.now'>; languages: string[] }> = [];
  const silent: string[] = [];
  for (const target of commandTargetsOf(targets)) {
    const areaCode =
      target.type === 'area'
        ? target.areaCode
        : (targets.receivers.find((r) => r.id === target.receiverId)?.village.code as string);
    const languages = request.languages.length > 0 ? request.languages : (areaLanguages.get(areaCode) ?? ['vie']);
    const { segments, assets } = audioSegments(content.variants, languages);
    if (segments.length === 0) {
      silent.push(target.type === 'area' ? target.areaCode : target.receiverId);
      continue;
    }
    commands.push({
      target,
      languages: segments.map((s) => s.language),
      body: {
        item: {
          itemId,
          title: content.title.slice(0, 200),
          priority: request.priority,
          startMode: request.startMode,
          volume: request.volume,
          repeat: request.repeat,
          prelude: request.prelude,
          ...(prelude.preludeSha256 ? { preludeSha256: prelude.preludeSha256 } : {}),
          segments,
        },
        assets: prelude.asset ? [...assets, prelude.asset] : assets,
      },
    });
  }
  if (silent.length > 0) {
    const have = content.variants.filter((v) => v.asset).map((v) => v.language);
    throw new Problem(
      422,
      'Unprocessable Content',
      `content "${content.title}" has no audio in the languages of ${silent.join(', ')} ` +
        `(audio exists for: ${have.join(', ') || 'none'}); upload or synthesise audio first, or choose languages`,
    );
  }
  return { itemId, commands };
}
