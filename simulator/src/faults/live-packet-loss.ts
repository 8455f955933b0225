import type { Agent } from '@loa/edge-agent';

/** Packets a fleet's receivers got on their live audio topics, and how many of them their links lost. */
export interface LivePacketCounts {
  passed: number;
  dropped: number;
}

/**
 * A lossy radio link for live audio: each live packet a receiver gets is dropped with
 * probability `fraction`, chosen at random per packet, before the agent sees it. Live
 * audio is QoS 0, so a packet lost on the link is never sent again: dropping it whole
 * after the broker is what the receiver would see (the TCP fault proxy cannot drop
 * single packets without corrupting the stream). Commands and reports are untouched.
 *
 * The seam is the agent's own `live.receive` (where its link hands over every payload
 * of a live audio topic), replaced on the running agent; the agent has no hook for it.
 */
export class LivePacketLoss {
  readonly counts: LivePacketCounts = { passed: 0, dropped: 0 };
  #fraction = 0;

  constructor(
    fraction = 0,
    private readonly random: () => number = Math.random,
  ) {
    this.fraction = fraction;
  }

  get fraction(): number {
    return this.#fraction;
  }

  /** 0 (none lost) to 1 (all lost); applies from the next packet on. */
  set fraction(value: number) {
    if (!(value >= 0 && value <= 1))
      throw new RangeError(`live packet loss must be a fraction from 0 to 1, not ${value}`);
    this.#fraction = value;
  }

  /** Puts the lossy link in front of an agent's live sessions (again after each start: a power cycle makes a new agent). */
  attach(agent: Agent): void {
    const live = agent.live;
    const receive = live.receive.bind(live);
    live.receive = (topic, payload) => {
      if (this.#fraction > 0 && this.random() < this.#fraction) {
        this.counts.dropped++;
        return;
      }
      this.counts.passed++;
      receive(topic, payload);
    };
  }
}
