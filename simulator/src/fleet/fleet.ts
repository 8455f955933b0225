import { Agent, MemoryStorage } from '@loa/edge-agent';
import { type LivePacketCounts, LivePacketLoss } from '../faults/live-packet-loss.js';
import type { LiveRecord } from './live-record.js';
import { PlayLog } from './play-log.js';
import type { PlayRecord } from './recording-renderer.js';
import { type FleetSettings, type VirtualReceiverSpec, virtualReceiverParts } from './virtual-receiver.js';
import { VirtualSpeakerLine } from './virtual-speaker-line.js';

/**
 * Many virtual receivers in one process, each a real Agent with its own MQTT connection.
 * Started a few at a time (a real fleet does not all power on in one millisecond), and
 * each keeps its store so it can lose power and come back from it.
 */
export class Fleet {
  readonly agents = new Map<string, Agent>();
  readonly stores = new Map<string, MemoryStorage>();
  /** Each receiver's speaker line (a test breaks one to see the silent test find it). */
  readonly lines = new Map<string, VirtualSpeakerLine>();
  readonly #plays = new PlayLog();
  readonly #lives: LiveRecord[] = [];
  readonly #loss: LivePacketLoss;

  constructor(private readonly settings: Omit<FleetSettings, 'record'> & { record?: FleetSettings['record'] }) {
    this.#loss = new LivePacketLoss(settings.livePacketLoss ?? 0);
  }

  /** One record per sounding (receiver, item, start): partial while it plays, final once it ended. */
  get plays(): readonly PlayRecord[] {
    return this.#plays.records;
  }

  /** Hands over the records so far and forgets them (a worker sends them to its parent). */
  takePlays(): PlayRecord[] {
    return this.#plays.take();
  }

  /** One record per live session per receiver, once it has ended there. */
  get lives(): readonly LiveRecord[] {
    return this.#lives;
  }

  /** Hands over the live records so far and forgets them (a worker sends them to its parent). */
  takeLives(): LiveRecord[] {
    return this.#lives.splice(0);
  }

  /** Sets the share of live packets every receiver's link loses from now on; answers the counts so far. */
  setLivePacketLoss(fraction: number): LivePacketCounts {
    this.#loss.fraction = fraction;
    return { ...this.#loss.counts };
  }

  async start(
    specs: readonly VirtualReceiverSpec[],
    options: { concurrency?: number; onProgress?: (started: number, total: number) => void } = {},
  ): Promise<void> {
    const queue = [...specs];
    let started = 0;
    const worker = async () => {
      for (let spec = queue.shift(); spec; spec = queue.shift()) {
        await this.#startOne(spec);
        options.onProgress?.(++started, specs.length);
      }
    };
    await Promise.all(Array.from({ length: options.concurrency ?? 20 }, worker));
  }

  /** Power loss: the agent stops dead (no goodbye) and starts again from its store. */
  async powerCycle(spec: VirtualReceiverSpec): Promise<void> {
    const agent = this.agents.get(spec.receiverId);
    agent?.powerCut();
    this.agents.delete(spec.receiverId);
    await this.#startOne(spec);
  }

  online(): number {
    let n = 0;
    for (const agent of this.agents.values()) if (agent.link.connected) n++;
    return n;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.agents.values()].map((a) => a.stop('shutdown')));
    this.agents.clear();
  }

  #lineOf(receiverId: string): VirtualSpeakerLine {
    let line = this.lines.get(receiverId);
    if (!line) {
      line = new VirtualSpeakerLine();
      this.lines.set(receiverId, line);
    }
    return line;
  }

  async #startOne(spec: VirtualReceiverSpec): Promise<void> {
    let store = this.stores.get(spec.receiverId);
    if (!store) {
      store = new MemoryStorage();
      this.stores.set(spec.receiverId, store);
    }
    const parts = virtualReceiverParts(
      spec,
      {
        ...this.settings,
        record: (record) => {
          this.#plays.add(record);
          this.settings.record?.(record);
        },
        recordLive: (record) => {
          this.#lives.push(record);
          this.settings.recordLive?.(record);
        },
      },
      store,
      this.#lineOf(spec.receiverId),
    );
    const agent = await Agent.start(parts);
    this.#loss.attach(agent);
    this.agents.set(spec.receiverId, agent);
  }
}
