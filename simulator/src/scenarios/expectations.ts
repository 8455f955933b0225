import type { PlayRecord } from '../fleet/recording-renderer.js';
import type { VirtualReceiverSpec } from '../fleet/virtual-receiver.js';
import { duplicatePlays, firstStarts, startSkews } from '../metrics/play-analysis.js';
import type { ControllerRegistry, RegistryArea } from '../registry/controller-registry.js';
import { durationMs } from './load-scenario.js';
import type { ScenarioFleet } from './scenario-runner.js';
import type { Expectation } from './scenario-schema.js';
import { type DrawnShapes, insideDrawnShapes, type Position } from './shapes.js';
import type { WireObserver } from './wire-observer.js';

/** An alert (or an Update of one) the scenario issued, as the controller and the receivers know it. */
export interface ScenarioAlert {
  /** The controller's id of this message (for /alerts/{id}/...). */
  id: string;
  /** The alert on the receivers: the same for an alert and its Updates. */
  wireId: string;
  revision: number;
  status: 'Actual' | 'Exercise' | 'Test';
  areas: string[];
  shapes: DrawnShapes;
  headline: Record<string, string>;
  issuedAt: number;
}

/** A receiver of the registry (the whole province, not only the fleet): its areas and surveyed position. */
export interface RegistryReceiver {
  receiverId: string;
  areaCodes: string[];
  position: Position | undefined;
}

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
  /** Alerts and Updates issued, by scenario item id. */
  alerts: Map<string, ScenarioAlert>;
  /** Every enabled receiver of the registry, fleet or not. */
  registry: RegistryReceiver[];
  /** Speech the controller made of a text (POST /speech/preview), by language and text: its asset. */
  speech: Map<string, Promise<{ sha256: string; durationMs: number }>>;
}

/**
 * The receivers an alert reaches by the alert API's rule: those under its areas, and
 * those whose surveyed position is inside a drawn shape (worked out here, from the
 * geometry). Of `among`: the fleet, or the whole registry.
 */
export function alertReach(
  among: readonly RegistryReceiver[],
  areas: readonly string[],
  shapes: DrawnShapes,
): RegistryReceiver[] {
  return among.filter(
    (r) =>
      r.areaCodes.some((a) => areas.includes(a)) || (r.position !== undefined && insideDrawnShapes(r.position, shapes)),
  );
}

/**
 * What the controller says first in an Exercise or Test, before the headline (the alert
 * API's documented wording; controller/README.md, Alerts), Vietnamese.
 */
export const NOT_REAL_NOTICE: Record<'Exercise' | 'Test', string> = {
  Exercise: 'Đây là tin diễn tập, không phải tin thật.',
  Test: 'Đây là tin thử nghiệm, không phải tin thật.',
};

/** Texts joined as the alert API reads them out: each a sentence (a full stop added where it ends without one). */
export function spokenText(parts: ReadonlyArray<string | undefined>): string {
  return parts
    .filter((t): t is string => Boolean(t?.trim()))
    .map((t) => (/[.!?]$/.test(t.trim()) ? t.trim() : `${t.trim()}.`))
    .join(' ');
}

/** The item-id prefix of every airing of every revision of an alert (edge agent: `<wireId>.r<revision>.<airing>`). */
function airingsOf(wireId: string): string {
  return `${wireId.slice(0, 100)}.r`;
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
    // No airing of the alert after the cancel, of this revision or any other (an Update's, an older one's).
    const wire = state.alerts.get(e.cancelled.item)?.wireId;
    const prefix = wire ? airingsOf(wire) : alert.itemId.replace(/\.\d+$/, '.');
    const again = plays.filter((p) => p.itemId.startsWith(prefix) && (p.startedAt ?? 0) > at);
    const stops = plays
      .filter((p) => p.itemId === alert.itemId && p.endedAt !== undefined && p.endedAt >= at)
      .map((p) => (p.endedAt as number) - at);
    const slowest = stops.length ? `, slowest ${Math.max(...stops)} ms` : '';
    const detail = `${airing.length - late.length}/${airing.length} stopped within ${e.cancelled.within}${slowest}; ${again.length} airings after the cancel`;
    if (airing.length > 0 && late.length === 0 && again.length === 0) return verdict('pass', detail);
    return now < at + limit + SLACK_MS ? verdict('pending', detail) : verdict('fail', detail);
  }

  if ('replaced' in e) {
    const old = item(e.replaced.item);
    const next = item(e.replaced.by);
    if (!old || !next) return verdict('pending', 'the alert and its Update are not both issued yet');
    const at = next.reference;
    const limit = durationMs(e.replaced.within);
    const oldAirings = old.itemId.replace(/\.\d+$/, '.');
    const ofOld = plays.filter((p) => p.itemId.startsWith(oldAirings) && p.startedAt !== undefined);
    // Receivers whose older revision was sounding when the Update was issued.
    const airing = [
      ...new Set(
        ofOld
          .filter((p) => (p.startedAt as number) <= at && (p.endedAt === undefined || p.endedAt > at))
          .map((p) => p.receiverId),
      ),
    ];
    const stopped = airing.filter((id) =>
      ofOld.some(
        (p) =>
          p.receiverId === id &&
          p.result === 'aborted' &&
          p.endedAt !== undefined &&
          p.endedAt >= at &&
          p.endedAt <= at + limit,
      ),
    );
    const again = ofOld.filter((p) => (p.startedAt as number) > at);
    const newStarts = firstStarts(plays, next.itemId);
    const switched = airing.filter((id) => newStarts.has(id));
    // What each sounded: the Update's first segment against the older revision's (reported; an Update may change only the siren).
    const firstSegmentOf = (id: string, prefix: string) =>
      plays.find((p) => p.receiverId === id && p.itemId.startsWith(prefix) && p.segments?.length)?.segments?.[0];
    const newAirings = next.itemId.replace(/\.\d+$/, '.');
    const changed = switched.filter((id) => firstSegmentOf(id, newAirings) !== firstSegmentOf(id, oldAirings));
    const stops = ofOld
      .filter((p) => airing.includes(p.receiverId) && p.endedAt !== undefined && p.endedAt >= at)
      .map((p) => (p.endedAt as number) - at);
    const detail =
      `${airing.length}/${old.expected.length} were airing ${e.replaced.item} when the Update was issued; ` +
      `${stopped.length}/${airing.length} stopped it within ${e.replaced.within}${stops.length ? ` (slowest ${Math.max(...stops)} ms)` : ''}; ` +
      `${switched.length}/${airing.length} aired ${e.replaced.by} since (${changed.length} of them other audio than before); ${again.length} airings of the older revision after the Update`;
    if (again.length > 0) return verdict('fail', detail);
    if (airing.length > 0 && stopped.length === airing.length && switched.length === airing.length)
      return verdict('pass', detail);
    // Stopping is held to `within`; the Update's own start (its audio fetched, its siren) to a minute.
    const late = stopped.length < airing.length ? at + limit + SLACK_MS : at + 60_000;
    return now < late ? verdict('pending', detail) : verdict('fail', detail);
  }

  if ('airedExactly' in e) {
    const it = item(e.airedExactly.item);
    const alert = state.alerts.get(e.airedExactly.item);
    if (!it || !alert) return verdict('pending', 'not issued yet');
    const within = durationMs(e.airedExactly.within);
    const expected = new Set(it.expected);
    const fleetIds = new Set(state.specs.map((s) => s.receiverId));
    const prefix = airingsOf(alert.wireId);
    const aired = new Set(
      plays.filter((p) => p.itemId.startsWith(prefix) && p.startedAt !== undefined).map((p) => p.receiverId),
    );
    const starts = firstStarts(plays, it.itemId);
    const onTime = [...expected].filter((id) => {
      const at = starts.get(id);
      return at !== undefined && Math.abs(at - it.reference) <= within;
    });
    const outside = state.specs.map((s) => s.receiverId).filter((id) => !expected.has(id));
    const wrongly = outside.filter((id) => aired.has(id));
    // Villages cut by the shapes: receivers inside and outside the same village.
    const villageOf = new Map(state.specs.map((s) => [s.receiverId, s.areas[s.areas.length - 1]?.areaCode ?? '']));
    const villages = new Map<string, { inside: number; all: number }>();
    for (const [id, code] of villageOf) {
      const v = villages.get(code) ?? { inside: 0, all: 0 };
      v.all++;
      if (expected.has(id)) v.inside++;
      villages.set(code, v);
    }
    const cut = [...villages].filter(([, v]) => v.inside > 0 && v.inside < v.all);
    const whole = [...villages].filter(([, v]) => v.inside === v.all).length;
    const cutCodes = new Set(cut.map(([code]) => code));
    const besideThem = outside.filter((id) => cutCodes.has(villageOf.get(id) ?? '')).length;
    // The controller's own account: one delivery row per receiver it sent the alert to,
    // against the same rule applied to the whole registry (receivers outside the fleet too).
    const reach = new Set(alertReach(state.registry, alert.areas, alert.shapes).map((r) => r.receiverId));
    const delivered = await alertDeliveryReceivers(state.admin, alert.id);
    const extra = [...delivered].filter((id) => !reach.has(id));
    const missed = [...reach].filter((id) => !delivered.has(id));
    const sent = state.observer
      .envelopes('alert.issue')
      .filter((c) => c.body.alertId === alert.wireId && c.body.revision === alert.revision);
    const toAreas = sent.flatMap((c) => (c.target.type === 'area' ? [c.target.areaCode] : []));
    const wire = `on the wire: ${toAreas.length} area publishes${toAreas.length ? ` (${toAreas.join(', ')})` : ''} and ${sent.length - toAreas.length} copies to single receivers`;
    const detail =
      `${expected.size} of ${fleetIds.size} receivers inside (villages wholly inside: ${whole}; cut: ${
        cut.map(([code, v]) => `${code} ${v.inside}/${v.all}`).join(', ') || 'none'
      }): ${onTime.length}/${expected.size} aired it within ${within} ms; ` +
      `${wrongly.length}/${outside.length} outside aired it${wrongly.length ? ` (${sample(wrongly)})` : ''} ` +
      `(${besideThem} of them in the cut villages); the controller delivered to ${delivered.size}` +
      (extra.length || missed.length
        ? ` — not the receivers inside: ${extra.length ? `extra ${sample(extra)}` : ''}${missed.length ? ` missing ${sample(missed)}` : ''}`
        : ', exactly those inside') +
      `; ${wire}`;
    if (wrongly.length > 0 || extra.length > 0 || missed.length > 0) return verdict('fail', detail);
    if (expected.size === 0) return verdict('fail', `no receiver of the fleet is inside the shapes: ${detail}`);
    if (outside.length === 0) return verdict('fail', `no receiver is outside, so exactness proves nothing: ${detail}`);
    // Decided only once the window is over: a receiver outside may not air it late either.
    if (now < it.reference + within + SLACK_MS) return verdict('pending', detail);
    return onTime.length === expected.size ? verdict('pass', detail) : verdict('fail', detail);
  }

  if ('alertStatus' in e) {
    const it = item(e.alertStatus.item);
    const alert = state.alerts.get(e.alertStatus.item);
    if (!it || !alert) return verdict('pending', 'not issued yet');
    const want = e.alertStatus.status;
    const ofAlert = state.observer.envelopes('alert.issue').filter((c) => c.body.alertId === alert.wireId);
    const wrong = ofAlert.filter((c) => c.body.status !== want);
    const mine = ofAlert.filter((c) => c.body.revision === alert.revision);
    const accepted = new Map<string, unknown>();
    for (const c of mine) for (const rx of state.observer.acceptedBy(c.id)) accepted.set(rx, c.body.status);
    const aired = [...firstStarts(plays, it.itemId).keys()];
    const unaccounted = aired.filter((id) => accepted.get(id) !== want);
    const notAccepted = it.expected.filter((id) => accepted.get(id) !== want);
    const statuses = [...new Set(ofAlert.map((c) => String(c.body.status)))].join(', ') || 'none';
    const detail =
      `${mine.length} alert.issue commands of revision ${alert.revision} on the wire (${[...new Set(mine.map((c) => c.target.type))].join(' and ') || 'no'} targets), ` +
      `statuses of the alert's commands seen: ${statuses}; ${it.expected.length - notAccepted.length}/${it.expected.length} receivers accepted one saying ${want}; ` +
      `${aired.length - unaccounted.length}/${aired.length} that aired it had`;
    if (wrong.length > 0) return verdict('fail', `${wrong.length} commands said otherwise: ${detail}`);
    if (mine.length > 0 && notAccepted.length === 0 && unaccounted.length === 0) return verdict('pass', detail);
    return now < it.reference + 15_000 ? verdict('pending', detail) : verdict('fail', detail);
  }

  if ('noAlertSent' in e) {
    const status = e.noAlertSent.status;
    const all = state.observer.envelopes('alert.issue');
    const sent = all.filter((c) => c.body.status === status);
    const listed = (await state.admin.get<{ items: Array<{ status: string; identifier: string }> }>('/alerts')).items;
    const drafted = listed.filter((a) => a.status === status);
    const counts = [...new Set(all.map((c) => String(c.body.status)))]
      .map((s) => `${s} ×${all.filter((c) => c.body.status === s).length}`)
      .join(', ');
    const detail = `${sent.length} of the ${all.length} alert.issue commands seen on the wire said ${status} (${counts || 'none'}); the controller holds ${drafted.length} ${status} alerts`;
    if (sent.length > 0 || drafted.length > 0) return verdict('fail', detail);
    // Decided once the last alert is a few seconds old: its commands are all on the wire by then.
    const lastAlert = Math.max(state.t0, ...[...state.alerts.values()].map((a) => a.issuedAt));
    return now < lastAlert + SLACK_MS ? verdict('pending', detail) : verdict('pass', detail);
  }

  if ('saysNotReal' in e) {
    const it = item(e.saysNotReal.item);
    const alert = state.alerts.get(e.saysNotReal.item);
    if (!it || !alert) return verdict('pending', 'not issued yet');
    if (alert.status === 'Actual') return verdict('fail', 'an Actual alert says nothing of the kind');
    // The controller's speech of the notice and headline, and of the headline alone: the
    // same engine, voice and pipeline (its speech cache is keyed by the words read), so
    // the aired segment is the first exactly when the controller spoke those words.
    const withNotice = spokenText([NOT_REAL_NOTICE[alert.status], alert.headline.vie]);
    const withoutNotice = spokenText([alert.headline.vie]);
    const [noticed, bare] = await Promise.all([
      speechAsset(state, 'vie', withNotice),
      speechAsset(state, 'vie', withoutNotice),
    ]);
    if (noticed.sha256 === bare.sha256)
      return verdict('fail', 'the speech with and without the notice is the same audio');
    const sent = state.observer
      .envelopes('alert.issue')
      .filter((c) => c.body.alertId === alert.wireId && c.body.revision === alert.revision);
    const firstSegment = (c: (typeof sent)[number]) =>
      (c.body.item as { segments?: Array<{ language: string; sha256: string }> } | undefined)?.segments?.[0];
    const sentRight = sent.filter(
      (c) => firstSegment(c)?.language === 'vie' && firstSegment(c)?.sha256 === noticed.sha256,
    );
    const firsts = new Map<string, PlayRecord>();
    for (const p of plays)
      if (p.itemId === it.itemId && p.startedAt !== undefined) {
        const seen = firsts.get(p.receiverId);
        if (!seen || (p.startedAt as number) < (seen.startedAt as number)) firsts.set(p.receiverId, p);
      }
    const heard = [...firsts.values()];
    const right = heard.filter((p) => p.languages[0] === 'vie' && p.segments?.[0] === noticed.sha256);
    const rightIds = new Set(right.map((p) => p.receiverId));
    const waiting = it.expected.filter((id) => !rightIds.has(id));
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const detail =
      `the controller's speech of "${withNotice}" is asset ${noticed.sha256.slice(0, 12)}, ${seconds(noticed.durationMs)} ` +
      `(of the headline alone: ${bare.sha256.slice(0, 12)}, ${seconds(bare.durationMs)}); ` +
      `${sentRight.length}/${sent.length} commands on the wire begin with it; ${right.length}/${heard.length} receivers that aired ${e.saysNotReal.item} (${it.expected.length} expected) sounded it first` +
      (heard.length > right.length
        ? `; others first sounded ${sample(heard.filter((p) => !right.includes(p)).map((p) => `${p.receiverId}=${p.languages[0]}:${p.segments?.[0]?.slice(0, 12)}`))}`
        : '');
    if (sent.length > sentRight.length || heard.length > right.length) return verdict('fail', detail);
    if (sent.length > 0 && waiting.length === 0) return verdict('pass', detail);
    return now < it.reference + 20_000 ? verdict('pending', detail) : verdict('fail', detail);
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

/** The receivers the controller sent an alert to: its delivery rows (GET /alerts/{id}/deliveries). */
async function alertDeliveryReceivers(admin: ControllerRegistry, alertId: string): Promise<Set<string>> {
  const answer = await admin.get<{ total: number; items: Array<{ receiverId: string }> }>(
    `/alerts/${alertId}/deliveries?limit=10000`,
  );
  if (answer.items.length < answer.total)
    throw new Error(`alert ${alertId} has ${answer.total} deliveries, more than one page holds`);
  return new Set(answer.items.map((d) => d.receiverId));
}

/** The asset the controller's speech engine makes of a text (asked once per run). */
function speechAsset(state: RunState, language: string, text: string): Promise<{ sha256: string; durationMs: number }> {
  const key = `${language}\u0000${text}`;
  let asset = state.speech.get(key);
  if (!asset) {
    asset = state.admin.speechPreview(language, text);
    // A failure is asked again at the next evaluation, not remembered.
    asset.catch(() => state.speech.delete(key));
    state.speech.set(key, asset);
  }
  return asset;
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
