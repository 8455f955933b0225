/**
 * The microphone's AudioWorklet: runs on the audio thread, mixes the input to mono,
 * brings rates above 48 kHz down (the controller takes 8–48 kHz), and posts to the page
 * 20 ms chunks of Float32 PCM (to send) and, every 50 ms, the level (RMS and peak) for the
 * meter. Loaded with `audioWorklet.addModule` (see microphone.ts), not imported.
 */

// The AudioWorkletGlobalScope is not the DOM: its few names are declared here.
declare const sampleRate: number;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: { processorOptions?: unknown });
}
declare function registerProcessor(
  name: string,
  processor: new (options: { processorOptions?: unknown }) => AudioWorkletProcessor,
): void;

/** What the worklet posts to the page. */
export type CaptureMessage = { type: 'chunk'; samples: Float32Array } | { type: 'level'; rms: number; peak: number };

export interface CaptureOptions {
  /** Keep one output sample per `factor` input samples (1 at 48 kHz and below). */
  factor: number;
}

const CHUNK_MS = 20;
const LEVEL_MS = 50;

class CaptureProcessor extends AudioWorkletProcessor {
  readonly #factor: number;
  readonly #chunkLength: number;
  readonly #levelEvery: number;
  #chunk: Float32Array;
  #filled = 0;
  /** Decimation: the running sum of the current group of input samples. */
  #groupSum = 0;
  #groupCount = 0;
  #squares = 0;
  #peak = 0;
  #levelCount = 0;
  #stopped = false;

  constructor(options: { processorOptions?: unknown }) {
    super(options);
    const factor = Math.max(1, Math.round((options.processorOptions as CaptureOptions | undefined)?.factor ?? 1));
    const rate = sampleRate / factor;
    this.#factor = factor;
    this.#chunkLength = Math.round((rate * CHUNK_MS) / 1000);
    this.#levelEvery = Math.round((rate * LEVEL_MS) / 1000);
    this.#chunk = new Float32Array(this.#chunkLength);
    this.port.onmessage = (event: MessageEvent) => {
      if ((event.data as { type?: string }).type === 'stop') this.#stopped = true;
    };
  }

  process(inputs: Float32Array[][]): boolean {
    if (this.#stopped) return false;
    const channels = inputs[0];
    // No input yet (or the track is muted): nothing to measure or send.
    if (!channels || channels.length === 0) return true;
    const frames = (channels[0] as Float32Array).length;
    for (let i = 0; i < frames; i++) {
      let sum = 0;
      for (const channel of channels) sum += channel[i] as number;
      this.#groupSum += sum / channels.length;
      if (++this.#groupCount < this.#factor) continue;
      // Averaging the group is a crude low-pass, enough for speech the controller keeps to 8 kHz.
      this.#push(this.#groupSum / this.#groupCount);
      this.#groupSum = 0;
      this.#groupCount = 0;
    }
    return true;
  }

  #push(sample: number): void {
    this.#chunk[this.#filled++] = sample;
    if (this.#filled === this.#chunkLength) {
      const samples = this.#chunk;
      this.port.postMessage({ type: 'chunk', samples } satisfies CaptureMessage, [samples.buffer]);
      this.#chunk = new Float32Array(this.#chunkLength);
      this.#filled = 0;
    }
    this.#squares += sample * sample;
    const magnitude = Math.abs(sample);
    if (magnitude > this.#peak) this.#peak = magnitude;
    if (++this.#levelCount === this.#levelEvery) {
      this.port.postMessage({
        type: 'level',
        rms: Math.sqrt(this.#squares / this.#levelCount),
        peak: this.#peak,
      } satisfies CaptureMessage);
      this.#squares = 0;
      this.#peak = 0;
      this.#levelCount = 0;
    }
  }
}

registerProcessor('loa-capture', CaptureProcessor);
