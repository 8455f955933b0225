import type { FaultCode, Telemetry } from '@loa/protocols';

/**
 * The hardware seams of the agent. Everything that touches time, sound, relays, the
 * modem or the disk goes through one of these interfaces, injected at start-up, so the
 * simulator ([4/8]) runs this exact agent code with virtual parts, and tests run it
 * without a sound card.
 */

/** Opaque handle of a pending timer. */
export type TimerHandle = { readonly __timer: unique symbol } | object;

/** The receiver's local time source. The simulator injects a virtual clock. */
export interface Clock {
  /** Local time, ms since the Unix epoch (not yet corrected by clock sync). */
  now(): number;
  /** Monotonic ms for measuring intervals (round trips, durations). */
  monotonic(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** PCM as the player produces it: interleaved signed 16-bit samples. */
export interface PcmFormat {
  sampleRate: number;
  channels: number;
}

/** An open audio output. Writes apply back-pressure; abort silences at once. */
export interface AudioOutput {
  /** Queues samples; resolves when the sink can take more. */
  write(pcm: Int16Array): Promise<void>;
  /** Resolves when everything written has been played out. */
  drain(): Promise<void>;
  /** Stops sound now, dropping what is queued. */
  abort(): Promise<void>;
  /** Releases the device after drain or abort. */
  close(): Promise<void>;
}

/** Where sound goes: ALSA on a receiver, a WAV file in tests, timing only in the simulator. */
export interface AudioSink {
  open(format: PcmFormat): Promise<AudioOutput>;
}

/** Digital output lines (amplifier relay, status LED) by configured name. */
export interface Gpio {
  write(line: string, value: boolean): Promise<void>;
  read(line: string): Promise<boolean>;
}

/** Result of checking the amplifier and speaker line without sound. */
export interface LineCheck {
  ok: boolean;
  speakerLineOhm?: number;
  /** The fault this check found, if any. */
  fault?: Extract<FaultCode, 'amplifier_fault' | 'speaker_line_open' | 'speaker_line_short'>;
}

/** Measures the amplifier and speaker line (a board-specific command or sensor). */
export interface LineProbe {
  check(): Promise<LineCheck>;
}

/** Radio link facts from the modem (through a configurable command on hardware). */
export interface Modem {
  read(): Promise<Telemetry['network']>;
}

/** Board facts for the heartbeat. Each may be unknown (undefined). */
export interface Board {
  temperatureC(): Promise<number | undefined>;
  power(): Promise<Telemetry['power']>;
  /** Bytes free and total on the data directory's file system. */
  disk(): Promise<{ freeBytes: number; totalBytes: number }>;
  /** Restarts the receiver (a reboot command, after the agent has saved its state). */
  reboot(): Promise<void>;
}

/**
 * The data directory. Writes are atomic and durable: after `writeAtomic` resolves, a
 * power cut leaves either the old or the new content, never a mix or nothing.
 */
export interface Storage {
  read(name: string): Promise<Buffer | undefined>;
  writeAtomic(name: string, data: Buffer | string): Promise<void>;
  /** Appends to a file (partial downloads); durable once resolved, may be cut short by a power loss. */
  append(name: string, data: Buffer): Promise<void>;
  /** Atomically renames (a verified download into place). */
  rename(from: string, to: string): Promise<void>;
  remove(name: string): Promise<void>;
  /** Names under a prefix ("assets/"), without the prefix. */
  list(prefix: string): Promise<string[]>;
  size(name: string): Promise<number | undefined>;
}
