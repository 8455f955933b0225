import type { AckEvent, CommandKind, CommandVerifier, VerifiedCommand } from '@loa/protocols';

/** What the agent does with one kind of verified command. Resolving means done. */
export type CommandHandler<K extends CommandKind = CommandKind> = (
  command: Extract<VerifiedCommand, { kind: K }>,
) => Promise<void>;

export type CommandHandlers = { [K in CommandKind]?: CommandHandler<K> };

/** An acknowledgement as the agent reports it (the reporter adds v, eventId, receiverId, at). */
export type AckReport = Pick<AckEvent, 'type' | 'commandId' | 'result'> & Partial<Pick<AckEvent, 'reason' | 'detail'>>;

/** Kinds whose effect is an action the controller wants confirmed as done or failed. */
const ACTIONS = new Set<CommandKind>([
  'device.volume',
  'device.test',
  'device.reboot',
  'device.update',
  'device.config',
  'device.reload',
  'device.logs',
  'stop',
]);

export interface CommandIntakeOptions {
  verifier: CommandVerifier;
  /** Saves the replay state; awaited before a command is acted on, so a restart cannot make it fresh again. */
  persistReplay: () => Promise<void>;
  handlers: CommandHandlers;
  report: (ack: AckReport) => Promise<void>;
  /** Called when the replay state could not be saved (the agent raises storage_error). */
  onStorageError?: (error: unknown) => void;
  log?: (message: string, detail?: Record<string, unknown>) => void;
}

/**
 * The receiver's gate for commands: every payload from a command topic is verified by
 * protocols' CommandVerifier (signature, key, validity window, target and topic, replay)
 * and acted on only if it passes. Refusals are reported with their reason and never acted
 * on. Commands are taken one at a time in arrival order.
 */
export class CommandIntake {
  #queue: Promise<void> = Promise.resolve();
  readonly stats = { accepted: 0, refused: {} as Record<string, number>, failed: 0 };

  constructor(private readonly o: CommandIntakeOptions) {}

  /** Queues a payload that arrived on `topic`; resolves when it has been handled. */
  receive(topic: string, payload: Uint8Array): Promise<void> {
    const next = this.#queue.then(() => this.#handle(topic, payload));
    this.#queue = next.catch((error: unknown) => this.o.log?.('command handling failed', { error: String(error) }));
    return this.#queue;
  }

  async #handle(topic: string, payload: Uint8Array): Promise<void> {
    const verdict = this.o.verifier.verify(payload, topic);
    if (!verdict.ok) {
      this.stats.refused[verdict.reason] = (this.stats.refused[verdict.reason] ?? 0) + 1;
      this.o.log?.('refused a command', { reason: verdict.reason, detail: verdict.detail, topic });
      await this.o.report({
        type: 'ack',
        commandId: verdict.commandId ?? 'unknown',
        result: 'refused',
        reason: verdict.reason,
        detail: verdict.detail.slice(0, 500),
      });
      return;
    }
    const command = verdict.command;
    try {
      await this.o.persistReplay();
    } catch (error) {
      // A warning that does not sound is worse than a replay window after a restart:
      // act anyway, and make the storage fault visible.
      this.o.onStorageError?.(error);
    }
    this.stats.accepted++;
    await this.o.report({ type: 'ack', commandId: command.id, result: 'accepted' });
    const handler = this.o.handlers[command.kind] as CommandHandler | undefined;
    if (!handler) {
      await this.o.report({
        type: 'ack',
        commandId: command.id,
        result: 'failed',
        detail: `${command.kind} is not supported by this agent version`,
      });
      return;
    }
    try {
      await handler(command);
      if (ACTIONS.has(command.kind)) await this.o.report({ type: 'ack', commandId: command.id, result: 'done' });
    } catch (error) {
      this.stats.failed++;
      await this.o.report({
        type: 'ack',
        commandId: command.id,
        result: 'failed',
        detail: String((error as Error).message ?? error).slice(0, 500),
      });
    }
  }
}
