import { Redis } from 'ioredis';
import type { FleetEvent } from './fleet-event.js';

const CHANNEL = 'loa:fleet-events';

/**
 * Fleet events fanned out through Redis pub/sub, so a change ingested by one controller
 * instance reaches the WebSocket clients of every instance.
 */
export class EventBus {
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #handlers = new Set<(event: FleetEvent) => void>();
  readonly #ready: Promise<unknown>;

  constructor(
    redisUrl: string,
    readonly channel = CHANNEL,
  ) {
    this.#publisher = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
    this.#subscriber = new Redis(redisUrl);
    this.#ready = this.#subscriber.subscribe(channel);
    this.#subscriber.on('message', (_channel, message) => {
      let event: FleetEvent;
      try {
        event = JSON.parse(message) as FleetEvent;
      } catch {
        return;
      }
      for (const handler of this.#handlers) handler(event);
    });
  }

  async ready(): Promise<void> {
    await this.#ready;
  }

  async publish(event: FleetEvent): Promise<void> {
    await this.#publisher.publish(this.channel, JSON.stringify(event));
  }

  on(handler: (event: FleetEvent) => void): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.#publisher.disconnect();
    this.#subscriber.disconnect();
  }
}
