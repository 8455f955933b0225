import type { AudioOutput, AudioSink, Clock, PcmFormat, TimerHandle } from '../hardware/seams.js';

/**
 * Timing only: sound "plays" for as long as it lasts on the clock, and nothing is heard.
 * A write resolves at once (it only moves the time the written sound ends); drain resolves
 * when that time has come on the clock; abort ends it now. The simulator runs thousands of
 * receivers on one virtual clock with it, so it costs one timer per drain, nothing per
 * sample.
 */
export class NullSink implements AudioSink {
  constructor(private readonly clock: Clock) {}

  async open(format: PcmFormat): Promise<AudioOutput> {
    const clock = this.clock;
    const msPerSample = 1000 / (format.channels * format.sampleRate);
    // When the last sample written finishes sounding, on the monotonic clock.
    let endsAt = clock.monotonic();
    const waiting = new Set<{ timer: TimerHandle; resolve: () => void }>();
    const settleAll = () => {
      for (const w of waiting) {
        clock.clearTimeout(w.timer);
        w.resolve();
      }
      waiting.clear();
    };
    return {
      async write(pcm) {
        endsAt = Math.max(endsAt, clock.monotonic()) + pcm.length * msPerSample;
      },
      drain() {
        const left = endsAt - clock.monotonic();
        if (left <= 0) return Promise.resolve();
        return new Promise<void>((resolve) => {
          const w = {
            timer: clock.setTimeout(() => {
              waiting.delete(w);
              resolve();
            }, left),
            resolve,
          };
          waiting.add(w);
        });
      },
      async abort() {
        endsAt = clock.monotonic();
        settleAll();
      },
      async close() {
        settleAll();
      },
    };
  }
}
