import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { downmix, resamplerTo48k } from '../audio/decoding/resample.js';
import { opusPacketMs } from './opus-toc.js';

/** The speaker's first WebSocket message: what the binary messages after it hold. */
export const AudioFormatMessage = Type.Union([
  Type.Object(
    {
      format: Type.Union([Type.Literal('s16le'), Type.Literal('f32le')]),
      sampleRate: Type.Integer({ minimum: 8000, maximum: 48000 }),
      channels: Type.Union([Type.Literal(1), Type.Literal(2)]),
    },
    { additionalProperties: false },
  ),
  Type.Object({ format: Type.Literal('opus'), frameMs: Type.Literal(20) }, { additionalProperties: false }),
]);
export type AudioFormatMessage = Static<typeof AudioFormatMessage>;

/** The longest chunk one binary message may hold. */
const MAX_CHUNK_S = 2;

/** A bad binary message: the socket closes with this code and reason. */
export class AudioRefused extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export function parseFormat(text: string): AudioFormatMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AudioRefused(
      1008,
      'the first message must be JSON: {"format":"s16le"|"f32le","sampleRate":8000-48000,"channels":1|2} or {"format":"opus","frameMs":20}',
    );
  }
  if (!Value.Check(AudioFormatMessage, value)) {
    const format = (value as { format?: unknown } | null)?.format;
    throw new AudioRefused(
      1008,
      format === 's16le' || format === 'f32le'
        ? 'PCM needs "sampleRate" (8000-48000) and "channels" (1 or 2), and nothing else'
        : format === 'opus'
          ? 'Opus frames must be 20 ms: {"format":"opus","frameMs":20}'
          : 'unknown format: use "s16le", "f32le" or "opus"',
    );
  }
  return value;
}

/** Turns the speaker's binary messages into 48 kHz mono PCM (or checked Opus frames). */
export type AudioIntake =
  | { kind: 'pcm'; inputMs: (bytes: number) => number; toPcm: (data: Buffer) => Float32Array }
  | { kind: 'opus'; check: (data: Buffer) => Uint8Array };

export async function audioIntake(format: AudioFormatMessage): Promise<AudioIntake> {
  if (format.format === 'opus')
    return {
      kind: 'opus',
      check: (data) => {
        const ms = opusPacketMs(data);
        if (ms !== 20)
          throw new AudioRefused(
            1007,
            ms === undefined
              ? 'a binary message is not an Opus packet'
              : `an Opus packet of ${ms} ms; send 20 ms frames`,
          );
        return new Uint8Array(data);
      },
    };
  const bytes = format.format === 's16le' ? 2 : 4;
  const frameBytes = bytes * format.channels;
  const resample = await resamplerTo48k(format.sampleRate);
  return {
    kind: 'pcm',
    inputMs: (length) => (length / frameBytes / format.sampleRate) * 1000,
    toPcm: (data) => {
      if (data.length % frameBytes !== 0)
        throw new AudioRefused(
          1007,
          `each binary message must hold whole samples (${frameBytes} bytes per sample frame)`,
        );
      const frames = data.length / frameBytes;
      if (frames > format.sampleRate * MAX_CHUNK_S)
        throw new AudioRefused(1009, `at most ${MAX_CHUNK_S} s of audio per message`);
      const channels = Array.from({ length: format.channels }, () => new Float32Array(frames));
      for (let i = 0; i < frames; i++)
        for (let c = 0; c < format.channels; c++) {
          const at = (i * format.channels + c) * bytes;
          (channels[c] as Float32Array)[i] = bytes === 2 ? data.readInt16LE(at) / 32768 : data.readFloatLE(at);
        }
      return resample(downmix(channels, frames));
    },
  };
}
