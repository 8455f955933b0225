import type { CaptureMessage, CaptureOptions } from './capture-worklet.ts';
// Vite bundles the worklet as its own script and gives its URL (TypeScript compiled, like a worker).
import captureWorkletUrl from './capture-worklet.ts?worker&url';

/** Why the microphone could not be opened, in terms the page explains. */
export type MicrophoneProblem = 'denied' | 'not_found' | 'busy' | 'insecure' | 'unsupported' | 'failed';

export class MicrophoneError extends Error {
  constructor(
    readonly problem: MicrophoneProblem,
    message: string,
  ) {
    super(message);
  }
}

/** One 50 ms measurement of the input, linear (0…1 full scale). */
export interface Level {
  rms: number;
  peak: number;
}

export interface MicrophoneHandlers {
  /** 20 ms of mono PCM at `sampleRate`. */
  onChunk(samples: Float32Array): void;
  onLevel(level: Level): void;
  /** The device went away (unplugged, permission revoked). */
  onEnded(): void;
}

/**
 * Speech needs no more than 16 kHz: the controller encodes wideband Opus (8 kHz of audio),
 * so a 16 kHz context (the browser resamples the microphone well) sends a third of the
 * bytes of 48 kHz over a commune office's uplink and loses nothing that is broadcast.
 */
const PREFERRED_RATE = 16_000;
const MAX_RATE = 48_000;

function describe(error: unknown): MicrophoneError {
  const name = error instanceof DOMException ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'NotAllowedError' || name === 'SecurityError') return new MicrophoneError('denied', message);
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return new MicrophoneError('not_found', message);
  if (name === 'NotReadableError' || name === 'AbortError') return new MicrophoneError('busy', message);
  return new MicrophoneError('failed', message);
}

/**
 * The open microphone: getUserMedia with the browser's speech processing on, an
 * AudioContext and the capture worklet. `close()` stops the tracks (the browser's
 * recording indicator goes off) and the context.
 */
export class Microphone {
  private constructor(
    readonly stream: MediaStream,
    readonly context: AudioContext,
    readonly node: AudioWorkletNode,
    /** The rate of the chunks (the context's, or half/quarter of it above 48 kHz). */
    readonly sampleRate: number,
  ) {}

  static async open(handlers: MicrophoneHandlers): Promise<Microphone> {
    if (!window.isSecureContext) throw new MicrophoneError('insecure', 'not a secure context');
    if (!navigator.mediaDevices?.getUserMedia || typeof AudioWorkletNode === 'undefined')
      throw new MicrophoneError('unsupported', 'getUserMedia or AudioWorklet missing');
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
        video: false,
      });
    } catch (error) {
      throw describe(error);
    }
    let context: AudioContext | undefined;
    try {
      let source: MediaStreamAudioSourceNode;
      try {
        context = new AudioContext({ sampleRate: PREFERRED_RATE, latencyHint: 'interactive' });
        source = context.createMediaStreamSource(stream);
      } catch {
        // Some browsers cannot connect a microphone to a context of another rate: use the device's.
        void context?.close();
        context = new AudioContext({ latencyHint: 'interactive' });
        source = context.createMediaStreamSource(stream);
      }
      await context.audioWorklet.addModule(captureWorkletUrl);
      const factor = Math.ceil(context.sampleRate / MAX_RATE);
      const node = new AudioWorkletNode(context, 'loa-capture', {
        numberOfInputs: 1,
        // One silent output to the destination keeps every browser pulling audio through the node.
        numberOfOutputs: 1,
        outputChannelCount: [1],
        processorOptions: { factor } satisfies CaptureOptions,
      });
      node.port.onmessage = (event: MessageEvent<CaptureMessage>) => {
        const message = event.data;
        if (message.type === 'chunk') handlers.onChunk(message.samples);
        else handlers.onLevel({ rms: message.rms, peak: message.peak });
      };
      source.connect(node);
      node.connect(context.destination);
      // Opened from a press or click, so the autoplay policy lets it run.
      await context.resume();
      for (const track of stream.getAudioTracks()) track.addEventListener('ended', () => handlers.onEnded());
      return new Microphone(stream, context, node, Math.round(context.sampleRate / factor));
    } catch (error) {
      for (const track of stream.getTracks()) track.stop();
      void context?.close();
      throw error instanceof MicrophoneError ? error : new MicrophoneError('failed', String(error));
    }
  }

  /** Stops everything: the tracks first, so the microphone is released even if the rest fails. */
  close(): void {
    for (const track of this.stream.getTracks()) track.stop();
    this.node.port.postMessage({ type: 'stop' });
    this.node.port.onmessage = null;
    this.node.disconnect();
    void this.context.close().catch(() => {});
  }

  /** Whether any track still records (for the page's "microphone on/off" line). */
  get live(): boolean {
    return this.stream.getAudioTracks().some((t) => t.readyState === 'live');
  }
}
