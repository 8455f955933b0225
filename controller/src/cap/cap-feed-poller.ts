import { createHash } from 'node:crypto';
import { ATOM_MAX_BYTES, CAP_MAX_BYTES, capDocumentHrefs, parseAtomFeed, parseCap } from '@loa/protocols';
import { startScheduledJobs } from '../background/scheduled-jobs.js';
import { type CapIntakeDeps, type CapResult, takeCap } from './cap-intake.js';

const QUEUE = 'loa-cap-feeds';
const SCHEDULER_ID = 'cap-feed-poll';
const FETCH_TIMEOUT_MS = 15_000;

/** Fetches at most `maxBytes`: a feed that sends more is cut off, never read whole into memory. */
export async function fetchLimited(url: string, maxBytes: number): Promise<Buffer> {
  const response = await fetch(url, {
    headers: { accept: 'application/atom+xml, application/cap+xml, application/xml;q=0.9' },
    redirect: 'follow',
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  const declared = Number(response.headers.get('content-length'));
  if (declared > maxBytes) throw new Error(`${url} is ${declared} bytes, more than the ${maxBytes} accepted`);
  const chunks: Buffer[] = [];
  let total = 0;
  if (!response.body) return Buffer.alloc(0);
  for await (const chunk of response.body) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new Error(`${url} sent more than the ${maxBytes} bytes accepted`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** The first element's local name, to tell an Atom feed from a CAP document before parsing either. */
function rootName(body: Buffer): string | undefined {
  const head = body.subarray(0, 4096).toString('utf8');
  return /<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s/>]/.exec(
    head.replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->/g, ''),
  )?.[1];
}

export interface PollReport {
  feed: string;
  entries: number;
  taken: CapResult[];
  errors: string[];
}

/**
 * Polls one CAP or Atom feed: an Atom feed's new entries (by id and updated) have their
 * CAP documents taken in, inline or fetched from their links; a bare CAP document is taken
 * in once per content. Whatever an entry came to, even a refusal, is remembered, so a bad
 * entry is reported once, not at every poll.
 */
export async function pollFeed(deps: CapIntakeDeps, feedUrl: string): Promise<PollReport> {
  const { db } = deps;
  const report: PollReport = { feed: feedUrl, entries: 0, taken: [], errors: [] };
  const body = await fetchLimited(feedUrl, ATOM_MAX_BYTES);
  const remember = async (key: string, outcome: string, detail?: string) => {
    await db.capFeedEntry.createMany({
      data: [{ key, feedUrl, outcome, ...(detail ? { detail: detail.slice(0, 2000) } : {}) }],
      skipDuplicates: true,
    });
  };
  const seen = async (key: string) => (await db.capFeedEntry.count({ where: { key } })) > 0;
  const take = async (key: string, xml: Buffer) => {
    const parsed = parseCap(xml);
    if (!parsed.ok) {
      report.errors.push(`${key}: ${parsed.errors[0]?.message}`);
      return remember(key, 'invalid', parsed.errors.map((e) => e.message).join('; '));
    }
    const result = await takeCap(deps, parsed.alert, feedUrl);
    report.taken.push(result);
    return remember(key, result.outcome, result.detail);
  };

  if (rootName(body) !== 'feed') {
    const key = `${feedUrl} sha256:${createHash('sha256').update(body).digest('hex')}`;
    if (!(await seen(key))) await take(key, body);
    return report;
  }
  const parsed = parseAtomFeed(body);
  if (!parsed.ok) throw new Error(`${feedUrl} is not a valid Atom feed: ${parsed.errors[0]?.message}`);
  for (const entry of parsed.feed.entries) {
    report.entries++;
    const key = `${feedUrl} ${entry.id} ${entry.updated}`;
    if (await seen(key)) continue;
    try {
      if (entry.alerts.length > 0 || entry.alertErrors.length > 0) {
        for (const alert of entry.alerts) report.taken.push(await takeCap(deps, alert, feedUrl));
        if (entry.alertErrors.length) report.errors.push(`${key}: ${entry.alertErrors[0]?.message}`);
        await remember(key, entry.alertErrors.length ? 'invalid' : 'taken', entry.alertErrors[0]?.message);
        continue;
      }
      const hrefs = capDocumentHrefs(entry);
      if (hrefs.length === 0) {
        await remember(key, 'ignored', 'no CAP document linked or embedded');
        continue;
      }
      for (const href of hrefs) await take(key, await fetchLimited(new URL(href, feedUrl).href, CAP_MAX_BYTES));
    } catch (error) {
      // A link that cannot be fetched now is tried again at the next poll.
      report.errors.push(`${key}: ${(error as Error).message}`);
    }
  }
  return report;
}

/** Polls every configured feed on a BullMQ job scheduler: one poll per period however many instances run. */
export async function startFeedPolling(
  deps: CapIntakeDeps,
  options: {
    redisUrl: string;
    prefix?: string;
    feeds: string[];
    everyS: number;
    log?: (message: string, detail: Record<string, unknown>) => void;
  },
) {
  return startScheduledJobs({
    queue: QUEUE,
    redisUrl: options.redisUrl,
    ...(options.prefix ? { prefix: options.prefix } : {}),
    schedules: [{ id: SCHEDULER_ID, name: 'poll', everyMs: options.feeds.length ? options.everyS * 1000 : null }],
    run: async () => {
      const reports = [];
      for (const feed of options.feeds) {
        const report = await pollFeed(deps, feed).catch((error: unknown) => ({
          feed,
          entries: 0,
          taken: [],
          errors: [(error as Error).message],
        }));
        if (report.errors.length || report.taken.length) options.log?.('CAP feed polled', { ...report });
        reports.push({ feed, entries: report.entries, taken: report.taken.length, errors: report.errors.length });
      }
      return reports;
    },
  });
}
