import type { Static } from '@sinclair/typebox';
import { COMMAND_BODIES, type CommandKind } from '../commands/bodies.js';
import { CommandEnvelope } from '../commands/envelope.js';
import { PROTOCOL_VERSION } from '../messages/common.js';
import type { AreaRef } from '../topics/acl.js';
import { parseTopic } from '../topics/topics.js';
import { DEFAULT_MAX_MESSAGE_BYTES, parseJsonPayload } from '../validation/decode.js';
import { formatIssues, validate } from '../validation/validate.js';
import type { TrustedKeySet } from './keys.js';
import type { RefusalReason } from './reasons.js';
import type { ReplayGuard } from './replay-guard.js';
import { checkDocumentSignature } from './signed-document.js';

/** A command that passed every check, its body typed by its kind. */
export type VerifiedCommand = {
  [K in CommandKind]: Omit<CommandEnvelope, 'kind' | 'body'> & { kind: K; body: Static<(typeof COMMAND_BODIES)[K]> };
}[CommandKind];

export type Verification =
  | { ok: true; command: VerifiedCommand }
  | { ok: false; reason: RefusalReason; detail: string; commandId?: string };

export interface VerifierOptions {
  keys: TrustedKeySet;
  receiverId: string;
  /** The receiver's village and its ancestors. */
  areas: readonly AreaRef[];
  replay: ReplayGuard;
  now?: () => number;
  /** Tolerated clock difference between controller and receiver. */
  maxSkewMs?: number;
  /** Longest validity a command may claim (issuedAt to expiresAt). */
  maxLifetimeMs?: number;
  maxBytes?: number;
}

export const DEFAULT_MAX_SKEW_MS = 30_000;
export const DEFAULT_MAX_LIFETIME_MS = 10 * 24 * 3600_000;

/**
 * The receiver's gate: a command is acted on only if it is well-formed, signed by a
 * trusted key, within its validity window, addressed to this receiver (on the matching
 * topic) and never seen before. Checks run in that order and the first failure is the
 * reason. Never throws, whatever the payload.
 */
export class CommandVerifier {
  readonly #o: Required<Omit<VerifierOptions, 'now'>> & { now: () => number };

  constructor(options: VerifierOptions) {
    this.#o = {
      now: Date.now,
      maxSkewMs: DEFAULT_MAX_SKEW_MS,
      maxLifetimeMs: DEFAULT_MAX_LIFETIME_MS,
      maxBytes: DEFAULT_MAX_MESSAGE_BYTES,
      ...options,
    };
  }

  verify(payload: Uint8Array | string, topic?: string): Verification {
    const o = this.#o;
    const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
    if (size > o.maxBytes) return refuse('too_large', `${size} bytes exceeds ${o.maxBytes}`);
    const parsed = parseJsonPayload(payload, { maxBytes: o.maxBytes });
    if (!parsed.ok) return refuse('malformed', formatIssues(parsed.errors));
    const raw = parsed.value as { v?: unknown; id?: unknown } | null;
    const rawId = typeof raw?.id === 'string' ? raw.id.slice(0, 64) : undefined;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return refuse('malformed', 'not a JSON object');
    if (raw.v !== PROTOCOL_VERSION) return refuse('unsupported_version', `version ${JSON.stringify(raw.v)}`, rawId);
    const shaped = validate(CommandEnvelope, raw);
    if (!shaped.ok) return refuse('malformed', formatIssues(shaped.errors), rawId);
    const env = shaped.value;

    const signature = checkDocumentSignature(env, o.keys, env.issuedAt);
    if (signature !== 'ok') return refuse(signature, `key ${env.keyId}`, env.id);

    const now = o.now();
    const skew = o.maxSkewMs;
    if (env.expiresAt <= env.notBefore) return refuse('malformed', 'expiresAt is not after notBefore', env.id);
    if (env.issuedAt > now + skew) return refuse('issued_in_future', `issued ${env.issuedAt - now} ms ahead`, env.id);
    if (env.expiresAt - env.issuedAt > o.maxLifetimeMs) {
      return refuse('lifetime_too_long', `lifetime ${env.expiresAt - env.issuedAt} ms`, env.id);
    }
    if (now + skew < env.notBefore) return refuse('not_yet_valid', `valid in ${env.notBefore - now} ms`, env.id);
    if (now - skew >= env.expiresAt) return refuse('expired', `expired ${now - env.expiresAt} ms ago`, env.id);

    const target = env.target;
    const addressed =
      target.type === 'receiver'
        ? target.receiverId === o.receiverId
        : o.areas.some((a) => a.level === target.level && a.areaCode === target.areaCode);
    if (!addressed) return refuse('wrong_target', JSON.stringify(target), env.id);
    if (topic !== undefined && !topicFits(topic, env)) return refuse('wrong_topic', topic, env.id);

    const replay = o.replay.check(env.iss, env.seq, env.id);
    if (replay !== 'fresh') return refuse(replay, `${env.iss}#${env.seq}`, env.id);

    const body = validate(COMMAND_BODIES[env.kind], env.body);
    if (!body.ok) return refuse('invalid_body', formatIssues(body.errors), env.id);

    o.replay.commit(env.iss, env.seq, env.id, env.expiresAt);
    return { ok: true, command: env as VerifiedCommand };
  }
}

function refuse(reason: RefusalReason, detail: string, commandId?: string): Verification {
  return commandId === undefined ? { ok: false, reason, detail } : { ok: false, reason, detail, commandId };
}

function topicFits(topic: string, env: CommandEnvelope): boolean {
  const parsed = parseTopic(topic);
  if (!parsed) return false;
  const t = env.target;
  if (t.type === 'receiver') return parsed.name === 'receiverCommand' && parsed.receiverId === t.receiverId;
  return parsed.name === 'areaCommand' && parsed.level === t.level && parsed.areaCode === t.areaCode;
}
