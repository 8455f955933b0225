import type { AudioOutput, AudioSink, Clock, PcmFormat, TimerHandle } from '../hardware/seams.js';

/**
 * Timing only: sound "plays" for as long as it lasts on the clock. The simulator runs
 * thousands of receivers with it; it costs a timer per drain, nothing per sample.
 */
export class NullSink implements AudioSink {
  constructor(private readonly clock: Clock) {}

  async open(format: PcmFormat): Promise<AudioOutput> {
    const clock = this.clock;
    // When the last sample written would finish sounding, on the monotonic clock.
    let endsAt = clock.monotonic();
    let pending: { timer: TimerHandle; resolve: () => void } | undefined;
    return {
      async write(pcm) {
        endsAt = Math.max(endsAt, clock.monotonic()) + (pcm.length / format.channels / format.sampleRate) * 1000;
      },
      drain() {
        return new Promise<void>((resolve) => {
          pending = { timer: clock.setTimeout(resolve, Math.max(0, endsAt - clock.monotonic())), resolve };
        });
      },
      async abort() {
        endsAt = clock.monotonic();
        if (pending) {
          clock.clearTimeout(pending.timer);
          pending.resolve();
        }
      },
      async close() {},
    };
  }
}
