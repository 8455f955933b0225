import type { VirtualReceiverSpec } from '../fleet/virtual-receiver.js';
import { duplicatePlays, firstStarts, startSkews } from '../metrics/play-analysis.js';
import type { ControllerRegistry, RegistryArea } from '../registry/controller-registry.js';
import { durationMs } from './load-scenario.js';
import type { ScenarioFleet } from './scenario-runner.js';
import type { Expectation } from './scenario-schema.js';
import type { WireObserver } from './wire-observer.js';

/** What a run has done so far, for the expectations to judge. */
export interface RunState {
  t0: number;
  fleet: ScenarioFleet;
  specs: VirtualReceiverSpec[];
  areaByCode: Map<string, RegistryArea>;
  /** Items by scenario id: the receivers' item id, its airtime or trigger (true ms), who should play it. */
  items: Map<
    string,
    { itemId: string; reference: number; expected: string[]; content: string; kind: 'scheduled' | 'now' }
  >;
  forged: Map<string, { commandIds: string[]; at: number; expected: string[]; itemId: string; reason: string }>;
  powerLosses: Array<{ receivers: string[]; offAt: number; onAt: number | undefined; flaggedAt: Map<string, number> }>;
  /** Receivers cut off or powered off, and when. */
  impaired: Array<{ receivers: Set<string>; from: number; to: number }>;
  observer: WireObserver;
  admin: ControllerRegistry;
  reconnects: Array<{ upAt: number; recoveredMs: number | null; resyncedMs: number | null }>;
  contentLanguages: Map<string, string[]>;
  /** Alerts cancelled, by scenario item id: when the cancel was sent (true ms). */
  cancels: Map<string, number>;
}

export interface Evaluation {
  expectation: string;
  status: 'pass' | 'fail' | 'pending';
  detail: string;
}

const SLACK_MS = 3000;

function describe(e: Expectation): string {
  const [kind, body] = Object.entries(e)[0] as [string, unknown];
  return `${kind} ${JSON.stringify(body)}`;
}

/** Judges one expectation now: pass, fail, or not yet decidable. */
export async function evaluate(e: Expectation, state: RunState, now: number): Promise<Evaluation> {
  const verdict = (status: Evaluation['status'], detail: string): Evaluation => ({
    expectation: describe(e),
    status,
    detail,
  });
  const item = (id: string) => state.items.get(id);
  const plays = state.fleet.plays;

  if ('started' in e) {
    const s = e.started;
    const it = item(s.item);
    if (!it) return verdict('pending', `item ${s.item} has not been triggered`);
    let expected = it.expected;
    if (s.areas) expected = expected.filter((id) => inAreas(state, id, s.areas as string[]));
    if (s.receivers) expected = expected.filter((id) => s.receivers?.includes(id));
    if (s.count) expected = expected.slice(0, s.count);
    if (s.only === 'online')
      expected = expected.filter(
        (id) => !state.impaired.some((i) => i.receivers.has(id) && i.from <= it.reference && i.to >= it.reference),
      );
    const within = durationMs(s.within);
    const starts = firstStarts(plays, it.itemId);
    const onTime = expected.filter((id) => {
      const at = starts.get(id);
      return at !== undefined && Math.abs(at - it.reference) <= within;
    });
    const late = expected.filter((id) => starts.has(id) && !onTime.includes(id));
    const fraction = expected.length ? onTime.length / expected.length : 0;
    const need = s.minFraction ?? 1;
    const detail = `${onTime.length}/${expected.length} started within ${within} ms${late.length ? `; off time: ${sample(late)}` : ''}${
      expected.length - onTime.length - late.length > 0
        ? `; never started: ${sample(expected.filter((id) => !starts.has(id)))}`
        : ''
    }`;
    if (expected.length === 0) return verdict('fail', 'no receiver is expected to play it (check the areas)');
    if (fraction >= need) return verdict('pass', detail);
    if (now < it.reference + within + SLACK_MS) return verdict('pending', detail);
    return verdict('fail', detail);
  }

  if ('languagesInOrder' in e) {
    const it = item(e.languagesInOrder.item);
    if (!it) return verdict('pending', 'not triggered');
    const have = state.contentLanguages.get(it.content) ?? [];
    // Judged on the airings heard to the end; an interrupted normal item is not replayed.
    const finished = plays.filter((p) => p.itemId === it.itemId && p.result === 'finished');
    const ended = new Set(
      plays.filter((p) => p.itemId === it.itemId && p.result !== undefined).map((p) => p.receiverId),
    );
    if (ended.size < it.expected.length) return verdict('pending', `${ended.size}/${it.expected.length} ended`);
    if (finished.length === 0) return verdict('fail', 'no receiver heard it to the end');
    const wrong = finished.filter((p) => {
      const spec = state.specs.find((s) => s.receiverId === p.receiverId);
      const village = spec?.areas[spec.areas.length - 1]?.areaCode ?? '';
      const order = (state.areaByCode.get(village)?.languages ?? []).filter((l) => have.includes(l));
      return collapse(p.languages).join(',') !== order.join(',');
    });
    return wrong.length === 0
      ? verdict('pass', `${finished.length} receivers aired every language of their village, in its order`)
      : verdict(
          'fail',
          `${wrong.length} aired another order, e.g. ${wrong[0]?.receiverId}: ${collapse(wrong[0]?.languages ?? []).join(',')}`,
        );
  }

  if ('interrupted' in e) {
    const victim = item(e.interrupted.item);
    const by = item(e.interrupted.by);
    if (!victim || !by) return verdict('pending', 'not both triggered');
    const byStarts = firstStarts(plays, by.itemId);
    const both = [...firstStarts(plays, victim.itemId).keys()].filter((id) => byStarts.has(id));
    const cut = both.filter((id) =>
      plays.some(
        (p) =>
          p.receiverId === id &&
          p.itemId === victim.itemId &&
          p.result === 'aborted' &&
          (p.endedAt ?? 0) <= (byStarts.get(id) as number) + 50,
      ),
    );
    const resumed = both.filter(
      (id) =>
        plays.filter((p) => p.receiverId === id && p.itemId === victim.itemId && p.startedAt !== undefined).length > 1,
    );
    const detail = `${cut.length}/${both.length} stopped ${e.interrupted.item} before ${e.interrupted.by} sounded; ${resumed.length} resumed it afterwards`;
    if (both.length > 0 && cut.length === both.length) return verdict('pass', detail);
    return now < by.reference + SLACK_MS * 2 ? verdict('pending', detail) : verdict('fail', detail);
  }

  if ('cancelled' in e) {
    const alert = item(e.cancelled.item);
    const at = state.cancels.get(e.cancelled.item);
    if (!alert || at === undefined) return verdict('pending', 'not cancelled yet');
    const limit = durationMs(e.cancelled.within);
    const airing = [...firstStarts(plays, alert.itemId).keys()];
    const late = airing.filter(
      (id) =>
        !plays.some(
          (p) => p.receiverId === id && p.itemId === alert.itemId && p.endedAt !== undefined && p.endedAt <= at + limit,
        ),
    );
    const again = plays.filter(
      (p) => p.itemId.startsWith(alert.itemId.replace(/\.\d+$/, '.')) && (p.startedAt ?? 0) > at,
    );
    const stops = plays
      .filter((p) => p.itemId === alert.itemId && p.endedAt !== undefined && p.endedAt >= at)
      .map((p) => (p.endedAt as number) - at);
    const slowest = stops.length ? `, slowest ${Math.max(...stops)} ms` : '';
    const detail = `${airing.length - late.length}/${airing.length} stopped within ${e.cancelled.within}${slowest}; ${again.length} airings after the cancel`;
    if (airing.length > 0 && late.length === 0 && again.length === 0) return verdict('pass', detail);
    return now < at + limit + SLACK_MS ? verdict('pending', detail) : verdict('fail', detail);
  }

  if ('noDuplicates' in e) {
    const dups = duplicatePlays(plays);
    return dups.length === 0
      ? verdict('pass', `${plays.length} plays, no item heard twice on one receiver`)
      : verdict('fail', `${dups.length} duplicates, e.g. ${JSON.stringify(dups[0])}`);
  }

  if ('maxSkew' in e) {
    const it = item(e.maxSkew.item);
    if (!it) return verdict('pending', 'not triggered');
    if (firstStarts(plays, it.itemId).size < it.expected.length && now < it.reference + SLACK_MS * 3)
      return verdict('pending', 'not all started');
    const villageOf = (id: string) => {
      const spec = state.specs.find((s) => s.receiverId === id);
      return spec?.areas[spec.areas.length - 1]?.areaCode ?? '';
    };
    const skews = [...startSkews(plays, it.itemId, villageOf).entries()];
    const worst = skews.reduce((m, [v, s]) => (s > m[1] ? [v, s] : m), ['', 0] as [string, number]);
    return worst[1] <= e.maxSkew.ms
      ? verdict('pass', `largest start skew in a village: ${worst[1].toFixed(1)} ms (${worst[0] || 'none'})`)
      : verdict('fail', `start skew ${worst[1].toFixed(1)} ms in ${worst[0]} exceeds ${e.maxSkew.ms} ms`);
  }

  if ('proofOfPlay' in e) {
    const it = item(e.proofOfPlay.item);
    if (!it) return verdict('pending', 'not triggered');
    if (it.kind !== 'scheduled') return verdict('fail', 'proof of play is kept for scheduled airtimes');
    let expected = it.expected;
    if (e.proofOfPlay.areas) expected = expected.filter((id) => inAreas(state, id, e.proofOfPlay.areas as string[]));
    if (e.proofOfPlay.receivers) expected = expected.filter((id) => e.proofOfPlay.receivers?.includes(id));
    const states = await deliveryStates(state.admin, it.itemId);
    const reported = expected.filter((id) => ['finished', 'interrupted'].includes(states.get(id) ?? ''));
    const detail = `${reported.length}/${expected.length} reported played${
      reported.length < expected.length
        ? `; still: ${sample(expected.filter((id) => !reported.includes(id)).map((id) => `${id}=${states.get(id) ?? 'none'}`))}`
        : ''
    }`;
    if (reported.length === expected.length) return verdict('pass', detail);
    return now < state.t0 + durationMs(e.proofOfPlay.by) ? verdict('pending', detail) : verdict('fail', detail);
  }

  if ('refused' in e) {
    const f = state.forged.get(e.refused.forged);
    if (!f) return verdict('pending', 'not injected yet');
    const refusedBy = new Map<string, string>();
    for (const id of f.commandIds) for (const [rx, reason] of state.observer.refusalsOf(id)) refusedBy.set(rx, reason);
    const present = f.expected.filter(
      (id) => !state.impaired.some((i) => i.receivers.has(id) && i.from <= f.at && i.to >= f.at),
    );
    const played = plays.filter((p) => p.itemId === f.itemId || f.commandIds.includes(p.itemId));
    const reasons = [...new Set(refusedBy.values())].join(', ');
    const rightly = present.filter((id) => refusedBy.get(id) === f.reason);
    const detail = `${rightly.length}/${present.length} refused it as ${f.reason} (reasons seen: ${reasons || 'none yet'}); ${played.length} played it`;
    if (played.length > 0) return verdict('fail', detail);
    if (rightly.length === present.length) return verdict('pass', detail);
    return now < f.at + durationMs(e.refused.within) ? verdict('pending', detail) : verdict('fail', detail);
  }

  if ('offlineFlagged' in e) {
    const within = durationMs(e.offlineFlagged.within);
    if (state.powerLosses.length === 0) return verdict('pending', 'no receiver has lost power yet');
    const all = state.powerLosses.flatMap((l) => l.receivers.map((id) => ({ id, l })));
    const flagged = all.filter(({ id, l }) => (l.flaggedAt.get(id) ?? Number.POSITIVE_INFINITY) - l.offAt <= within);
    const worst = Math.max(0, ...all.map(({ id, l }) => (l.flaggedAt.get(id) ?? now) - l.offAt));
    const detail = `${flagged.length}/${all.length} flagged offline within ${within} ms (slowest ${worst} ms)`;
    if (flagged.length === all.length) return verdict('pass', detail);
    const lastOff = Math.max(...state.powerLosses.map((l) => l.offAt));
    return now < lastOff + within + SLACK_MS ? verdict('pending', detail) : verdict('fail', detail);
  }

  if ('allOnline' in e) {
    const s = await state.fleet.status();
    const detail = `${s.online}/${s.receivers} online`;
    if (s.online === s.receivers) return verdict('pass', detail);
    return now < state.t0 + durationMs(e.allOnline.within) ? verdict('pending', detail) : verdict('fail', detail);
  }
  return verdict('fail', 'unknown expectation');
}

function inAreas(state: RunState, receiverId: string, codes: string[]): boolean {
  return state.specs.some((s) => s.receiverId === receiverId && s.areas.some((a) => codes.includes(a.areaCode)));
}

/** A language sequence without its repetitions (a repeated item lists each language again). */
function collapse(languages: readonly string[]): string[] {
  const seen: string[] = [];
  for (const l of languages) if (!seen.includes(l)) seen.push(l);
  return seen;
}

function sample(ids: readonly string[]): string {
  return ids.length <= 5 ? ids.join(', ') : `${ids.slice(0, 5).join(', ')} and ${ids.length - 5} more`;
}

async function deliveryStates(admin: ControllerRegistry, occurrenceId: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let cursor: string | null = null;
  do {
    const page: { items: Array<{ receiverId: string; state: string }>; nextCursor: string | null } = await admin.get(
      `/deliveries?occurrence=${occurrenceId}&limit=500${cursor ? `&cursor=${cursor}` : ''}`,
    );
    for (const d of page.items) out.set(d.receiverId, d.state);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}
