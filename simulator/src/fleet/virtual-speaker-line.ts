import type { LineCheck, LineProbe } from '@loa/edge-agent';

/**
 * The speaker line a virtual receiver's silent test measures: a healthy 8 Ω horn line
 * unless a test breaks or shorts it, so technicians' silent tests have something real
 * to report (a faulty line latches the fault the agent reports).
 */
export class VirtualSpeakerLine implements LineProbe {
  #state: 'ok' | 'open' | 'short' = 'ok';
  checks = 0;

  break(): void {
    this.#state = 'open';
  }

  short(): void {
    this.#state = 'short';
  }

  repair(): void {
    this.#state = 'ok';
  }

  async check(): Promise<LineCheck> {
    this.checks++;
    if (this.#state === 'open') return { ok: false, fault: 'speaker_line_open' };
    if (this.#state === 'short') return { ok: false, speakerLineOhm: 0.2, fault: 'speaker_line_short' };
    return { ok: true, speakerLineOhm: 8 };
  }
}
