import { readFile } from 'node:fs/promises';
import { type ValidationIssue, validate } from '@loa/protocols';
import type { TObject, TSchema } from '@sinclair/typebox';
import { parse as parseYaml } from 'yaml';
import {
  ACTION_BRANCHES,
  EXPECTATION_BRANCHES,
  type Scenario,
  type ScenarioAction,
  ScenarioSchema,
} from './scenario-schema.js';

export class ScenarioError extends Error {}

/** "20s", "500ms", "2m" or a number of milliseconds, as milliseconds. */
export function durationMs(value: number | string): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(value);
  if (!match) throw new ScenarioError(`"${value}" is not a duration (write 500ms, 20s or 2m)`);
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[match[2] as 'ms' | 's' | 'm'];
}

/**
 * Reads and checks a scenario file (YAML, or JSON which is YAML too). Errors name the
 * file, the entry and what is wrong: a timeline step is checked against the one action
 * its key names, so a typo in `playNow` does not drown in every other branch's errors.
 */
export async function loadScenario(file: string): Promise<Scenario> {
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ScenarioError(`${file}: cannot read the scenario: ${(error as Error).message}`);
  }
  return checkScenario(raw, file);
}

export function checkScenario(raw: unknown, source = 'scenario'): Scenario {
  const issues: string[] = [];
  const doc = (raw ?? {}) as Record<string, unknown>;
  const branchCheck = (list: unknown, branches: readonly TSchema[], where: string, skip: string[]) => {
    if (!Array.isArray(list)) return;
    list.forEach((entry, i) => {
      const keys = Object.keys((entry ?? {}) as object).filter((k) => !skip.includes(k));
      const names = branches.map((b) => Object.keys((b as TObject).properties).find((k) => !skip.includes(k)));
      const branch = branches.find((_b, j) => keys.includes(names[j] as string));
      if (!branch) {
        issues.push(`${where}/${i}: says none of ${names.join(', ')} (it has ${keys.join(', ') || 'nothing'})`);
        return;
      }
      const checked = validate(branch, entry);
      if (!checked.ok) issues.push(...checked.errors.map((e) => `${where}/${i}${e.path}: ${message(e)}`));
    });
  };
  branchCheck(doc.timeline, ACTION_BRANCHES, '/timeline', ['at', 'as']);
  branchCheck(doc.expect, EXPECTATION_BRANCHES, '/expect', []);
  if (issues.length === 0) {
    const checked = validate(ScenarioSchema, raw);
    if (!checked.ok) issues.push(...checked.errors.map((e) => `${e.path || '/'}: ${message(e)}`));
  }
  if (issues.length > 0) throw new ScenarioError(`${source}: not a valid scenario:\n  ${issues.join('\n  ')}`);
  const scenario = raw as Scenario;
  // Durations and names are checked here, once, so a run never fails half-way on a typo.
  for (const step of scenario.timeline ?? []) durationMs(step.at);
  const unknown = unknownReferences(scenario);
  if (unknown.length > 0) throw new ScenarioError(`${source}: not a valid scenario:\n  ${unknown.join('\n  ')}`);
  return scenario;
}

/** Every name a scenario uses must be one it defines: audio, content, items, forgeries. */
function unknownReferences(scenario: Scenario): string[] {
  const problems: string[] = [];
  const defined = (kind: string, ids: string[]) => {
    const seen = new Set<string>();
    for (const id of ids) {
      if (seen.has(id)) problems.push(`${kind} "${id}" is defined twice`);
      seen.add(id);
    }
    return seen;
  };
  const timeline = scenario.timeline ?? [];
  const audio = defined(
    'audio',
    (scenario.audio ?? []).map((a) => a.id),
  );
  const content = defined(
    'content',
    (scenario.content ?? []).map((c) => c.id),
  );
  const items = defined(
    'item',
    timeline.flatMap((s) =>
      'schedule' in s
        ? [s.schedule.id]
        : 'playNow' in s
          ? [s.playNow.id]
          : 'alert' in s
            ? [s.alert.id]
            : 'updateAlert' in s
              ? [s.updateAlert.id]
              : [],
    ),
  );
  // Alerts and their Updates, by item id: what alert expectations and actions may name.
  type AlertStep = Extract<ScenarioAction, { alert: unknown }>['alert'];
  type UpdateStep = Extract<ScenarioAction, { updateAlert: unknown }>['updateAlert'];
  const alertSteps = new Map<string, AlertStep | UpdateStep>(
    timeline.flatMap(
      (s): Array<[string, AlertStep | UpdateStep]> =>
        'alert' in s ? [[s.alert.id, s.alert]] : 'updateAlert' in s ? [[s.updateAlert.id, s.updateAlert]] : [],
    ),
  );
  const alerts = new Set(alertSteps.keys());
  const speech = scenario.speech ?? 'none';
  const forged = defined(
    'forgery',
    timeline.flatMap((s) => ('forge' in s ? [s.forge.id] : [])),
  );
  const need = (where: string, kind: string, set: Set<string>, id: string | undefined) => {
    if (id !== undefined && !set.has(id))
      problems.push(`${where}: no ${kind} "${id}" (defined: ${[...set].join(', ') || 'none'})`);
  };
  (scenario.content ?? []).forEach((c, i) => {
    for (const a of Object.values(c.variants)) need(`/content/${i}`, 'audio', audio, a);
  });
  timeline.forEach((s, i) => {
    const where = `/timeline/${i}`;
    if ('schedule' in s) need(where, 'content', content, s.schedule.content);
    if ('playNow' in s) need(where, 'content', content, s.playNow.content);
    if ('forge' in s) need(where, 'content', content, s.forge.content);
    if ('stop' in s) need(where, 'item', items, s.stop.item);
    if ('alert' in s) {
      const a = s.alert;
      for (const id of Object.values(a.audio ?? {})) need(where, 'audio', audio, id);
      if (!a.areas && !a.polygons && !a.circles)
        problems.push(`${where}: alert "${a.id}" names no areas, polygons or circles`);
      if (!a.audio && speech === 'none')
        problems.push(
          `${where}: alert "${a.id}" has no recorded audio, and the controller has no speech engine to read it (speech: espeak-ng)`,
        );
    }
    if ('updateAlert' in s) {
      for (const id of Object.values(s.updateAlert.audio ?? {})) need(where, 'audio', audio, id);
      need(where, 'alert', alerts, s.updateAlert.alert);
    }
    if ('cancelAlert' in s) need(where, 'alert', alerts, s.cancelAlert.alert);
  });
  scenario.expect.forEach((e, i) => {
    const where = `/expect/${i}`;
    const body = Object.values(e)[0] as { item?: string; by?: unknown; forged?: string };
    const aboutAnAlert = ['airedExactly', 'alertStatus', 'saysNotReal', 'cancelled', 'replaced'].some((k) => k in e);
    need(where, aboutAnAlert ? 'alert' : 'item', aboutAnAlert ? alerts : items, body.item);
    if ('interrupted' in e) need(where, 'item', items, e.interrupted.by);
    if ('refused' in e) need(where, 'forgery', forged, e.refused.forged);
    if ('replaced' in e) need(where, 'alert', alerts, e.replaced.by);
    if ('saysNotReal' in e) {
      // The chain back to the alert: an Update keeps its status, and its audio unless it changes it.
      const chain: Array<AlertStep | UpdateStep> = [];
      for (let id: string | undefined = e.saysNotReal.item; id !== undefined && chain.length <= alertSteps.size; ) {
        const step = alertSteps.get(id);
        if (!step) break;
        chain.push(step);
        id = 'alert' in step ? step.alert : undefined;
      }
      const root = chain.at(-1);
      const vieAudio = chain.find((step) => step.audio)?.audio?.vie;
      if (speech !== 'espeak-ng')
        problems.push(`${where}: saysNotReal needs the controller's speech engine (speech: espeak-ng)`);
      if (root && !('alert' in root) && (root.status ?? 'Exercise') === 'Actual')
        problems.push(
          `${where}: alert "${e.saysNotReal.item}" is Actual; only an Exercise or Test says it is not real`,
        );
      if (vieAudio)
        problems.push(
          `${where}: alert "${e.saysNotReal.item}" has recorded Vietnamese audio, which airs as recorded (the controller speaks the notice only in what it synthesises)`,
        );
    }
  });
  return problems;
}

function message(issue: ValidationIssue): string {
  return issue.message.replace(/^\S+ /, '');
}
