import { randomUUID } from 'node:crypto';
import { COMMAND_BODIES, type CommandBody, type CommandKind } from '../commands/bodies.js';
import type { CommandEnvelope, CommandTarget } from '../commands/envelope.js';
import { PROTOCOL_VERSION } from '../messages/common.js';
import { formatIssues, validate } from '../validation/validate.js';
import { publicEntryOf, type SigningKey, type TrustedKey } from './keys.js';
import { signDocument } from './signed-document.js';

/** Where the next sequence number comes from: a counter, or a database sequence shared by controller instances. */
export type SequenceSource = () => number | Promise<number>;

export interface SignOptions<K extends CommandKind> {
  kind: K;
  target: CommandTarget;
  body: CommandBody<K>;
  /** Validity: from notBefore (default: now) for ttlMs. */
  ttlMs: number;
  notBefore?: number;
}

/**
 * Signs commands as one issuer. Sign at the moment of publishing (a retry signs anew):
 * freshness and replay checks on the receiver assume it.
 */
export class CommandSigner {
  constructor(
    private readonly options: {
      issuer: string;
      key: SigningKey;
      nextSeq: SequenceSource;
      now?: () => number;
    },
  ) {}

  /** The trusted-key entry that lets receivers verify this signer's commands. */
  publicKey(): TrustedKey {
    return publicEntryOf(this.options.key);
  }

  async sign<K extends CommandKind>(request: SignOptions<K>): Promise<CommandEnvelope> {
    const body = validate(COMMAND_BODIES[request.kind], request.body);
    if (!body.ok) throw new Error(`cannot sign ${request.kind}: ${formatIssues(body.errors)}`);
    if (!(request.ttlMs > 0)) throw new Error('cannot sign: ttlMs must be positive');
    const issuedAt = Math.floor((this.options.now ?? Date.now)());
    const notBefore = request.notBefore ?? issuedAt;
    const envelope = {
      v: PROTOCOL_VERSION,
      id: randomUUID(),
      iss: this.options.issuer,
      seq: await this.options.nextSeq(),
      issuedAt,
      notBefore,
      expiresAt: notBefore + Math.ceil(request.ttlMs),
      target: request.target,
      kind: request.kind,
      body: request.body as Record<string, unknown>,
    };
    return signDocument(envelope, this.options.key);
  }
}

/** A simple in-process sequence, for one issuer process (tests, CLI tools). */
export function counterSequence(start = 0): SequenceSource {
  let next = start;
  return () => next++;
}
