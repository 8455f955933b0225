import { Problem } from '../http/problem.js';
import { localBroadcast, STALE_SESSION_MS } from '../live/live-broadcast.js';
import { type RelayDeps, type RelaySession, type RelaySettings, startRelaySession } from './relay-session.js';

export interface RelayRunnerOptions extends Partial<RelaySettings> {
  /** How often the runner looks for relays to start and stop (default 1 s). */
  pollMs?: number;
}

export interface RelayRunner {
  /** Occurrence ids of the relays this instance is airing. */
  running(): string[];
  /** Ends every relay this instance airs ('controller_stopping') and stops looking for new ones. */
  close(): Promise<void>;
}

/** After a relay could not be opened (no receiver reached, broker down), it is tried again this much later. */
const OPEN_BACKOFF_MS = 30_000;

/**
 * Airs relay schedules: a loop (every pollMs, sooner when an airtime starts before
 * that) finds the planned occurrences of enabled relay schedules whose window holds now
 * and that have no live session yet, and starts a RelaySession for each. The live
 * session's id is the occurrence id, so when several controller instances run this,
 * exactly one wins the insert; the others see the session and leave it. A relay ends at
 * its window's end, when its occurrence is cancelled or its schedule withdrawn, and at
 * close(); an edit of the schedule applies from its next airtime, as replanning does. A relay left open by an instance that died is marked
 * failed ('controller_lost'), so its deliveries can be judged.
 */
export function startRelays(deps: RelayDeps, options: RelayRunnerOptions = {}): RelayRunner {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => {});
  const pollMs = options.pollMs ?? 1000;
  const { pollMs: _poll, ...settings } = options;
  const running = new Map<string, RelaySession>();
  const starting = new Set<string>();
  const backoff = new Map<string, number>();
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> = Promise.resolve();

  async function start(occurrenceId: string): Promise<void> {
    starting.add(occurrenceId);
    try {
      const session = await startRelaySession(deps, occurrenceId, settings);
      if (closed) {
        await session.stop('controller_stopping');
        return;
      }
      running.set(occurrenceId, session);
      log('relay started', {
        sessionId: occurrenceId,
        url: session.url,
        endsAt: new Date(session.endsAt).toISOString(),
      });
      void session.done.then(() => running.delete(occurrenceId));
    } catch (error) {
      // Another instance opened it first: it is theirs.
      if (error instanceof Problem && error.status === 409) return;
      backoff.set(occurrenceId, now() + OPEN_BACKOFF_MS);
      log('relay could not start; trying again later', {
        sessionId: occurrenceId,
        error: (error as Error).message,
        retryInS: OPEN_BACKOFF_MS / 1000,
      });
    } finally {
      starting.delete(occurrenceId);
    }
  }

  /** Ends this instance's relays whose occurrence or schedule no longer wants them. */
  async function stopUnwanted(): Promise<void> {
    if (running.size === 0) return;
    const rows = await deps.db.occurrence.findMany({
      where: { id: { in: [...running.keys()] } },
      select: { id: true, status: true, schedule: { select: { enabled: true } } },
    });
    for (const [id, session] of running) {
      const row = rows.find((r) => r.id === id);
      const reason = !row
        ? 'occurrence_deleted'
        : row.status === 'cancelled'
          ? 'occurrence_cancelled'
          : !row.schedule.enabled
            ? 'schedule_withdrawn'
            : undefined;
      if (reason) {
        log('relay no longer scheduled: ending it', { sessionId: id, reason });
        void session.stop(reason);
      }
    }
  }

  /** Open relay sessions nobody has touched for STALE_SESSION_MS: their instance is gone. */
  async function failStale(at: number): Promise<void> {
    const stale = await deps.db.liveSession.findMany({
      where: {
        kind: 'relay',
        state: { in: ['opening', 'on_air'] },
        updatedAt: { lt: new Date(at - STALE_SESSION_MS) },
      },
      select: { id: true },
    });
    const lost = stale.filter((s) => !running.has(s.id) && !localBroadcast(s.id)).map((s) => s.id);
    if (lost.length === 0) return;
    await deps.db.liveSession.updateMany({
      where: {
        id: { in: lost },
        state: { in: ['opening', 'on_air'] },
        updatedAt: { lt: new Date(at - STALE_SESSION_MS) },
      },
      data: { state: 'failed', endedAt: new Date(at), endReason: 'controller_lost' },
    });
    log('relay sessions of a lost controller instance marked failed', { sessionIds: lost });
  }

  /** One pass; answers when the next pass is due. */
  async function tick(): Promise<number> {
    const at = now();
    await stopUnwanted();
    await failStale(at);
    const due = await deps.db.occurrence.findMany({
      where: {
        status: 'planned',
        startsAt: { lte: new Date(at + pollMs) },
        endsAt: { gt: new Date(at) },
        schedule: { enabled: true, relayUrl: { not: null } },
      },
      select: { id: true, startsAt: true },
      orderBy: { startsAt: 'asc' },
      take: 500,
    });
    const sessions = await deps.db.liveSession.findMany({
      where: { occurrenceId: { in: due.map((o) => o.id) } },
      select: { occurrenceId: true },
    });
    const taken = new Set(sessions.map((s) => s.occurrenceId));
    let next = at + pollMs;
    for (const o of due) {
      if (o.startsAt.getTime() > at) {
        // Starting within the next poll: wake up for it rather than up to a second late.
        next = Math.min(next, o.startsAt.getTime());
        continue;
      }
      if (taken.has(o.id) || running.has(o.id) || starting.has(o.id) || (backoff.get(o.id) ?? 0) > at) continue;
      backoff.delete(o.id);
      void start(o.id);
    }
    return next;
  }

  function arm(delayMs: number): void {
    if (closed) return;
    timer = setTimeout(() => {
      ticking = tick()
        .then((next) => arm(Math.max(10, next - now())))
        .catch((error: unknown) => {
          log('relay runner pass failed; trying again', { error: String(error) });
          arm(pollMs);
        });
    }, delayMs);
  }
  arm(0);

  return {
    running: () => [...running.keys()],
    async close() {
      closed = true;
      clearTimeout(timer);
      await ticking;
      // Relays still opening are ended by start() once they are open (closed is set).
      while (starting.size > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      await Promise.all([...running.values()].map((s) => s.stop('controller_stopping')));
    },
  };
}
