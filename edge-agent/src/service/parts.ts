import type { FaultCode } from '@loa/protocols';
import type { AgentParts } from '../agent.js';
import { AlsaSink, KILL_AFTER_MS, LIVE_APLAY_TIMING } from '../audio/alsa-sink.js';
import { Amplifier } from '../audio/amplifier.js';
import { AudioRenderer } from '../audio/audio-renderer.js';
import { CommandLineProbe } from '../audio/command-line-probe.js';
import { GpiodGpio } from '../audio/gpiod-gpio.js';
import { NullSink } from '../audio/null-sink.js';
import { VirtualGpio } from '../audio/virtual-gpio.js';
import { WavFileSink } from '../audio/wav-file-sink.js';
import type { AgentConfig } from '../config/agent-config.js';
import { commandModem, linuxBoard } from '../hardware/linux-board.js';
import type { AudioSink, Clock } from '../hardware/seams.js';
import { systemClock } from '../hardware/system-clock.js';
import { LiveRenderer } from '../live/live-renderer.js';
import { isLiveItem, routeLive } from '../live/route-live.js';
import { FileStorage } from '../store/file-storage.js';

export type Log = (message: string, detail?: Record<string, unknown>) => void;

/** The audio side of a receiver from its config: sinks (files, and live sessions), relay, line probe. */
export function audioParts(
  config: AgentConfig,
  clock: Clock = systemClock,
  onFault?: (code: FaultCode, detail: string) => void,
) {
  const sink: AudioSink =
    config.audio.sink === 'alsa'
      ? new AlsaSink(config.audio.device)
      : config.audio.sink === 'wav'
        ? new WavFileSink(config.audio.wavDir ?? config.dataDir)
        : new NullSink(clock);
  // Live sound must be heard when it is written (see AplayTiming); files and preludes keep aplay's defaults.
  const liveSink: AudioSink =
    config.audio.sink === 'alsa' ? new AlsaSink(config.audio.device, 'aplay', KILL_AFTER_MS, LIVE_APLAY_TIMING) : sink;
  const gpio = config.amplifier.gpio === 'gpiod' ? new GpiodGpio(config.amplifier.chip) : new VirtualGpio();
  const lineProbe = config.amplifier.lineCheckCommand
    ? new CommandLineProbe(config.amplifier.lineCheckCommand)
    : undefined;
  const amplifier = new Amplifier({
    gpio,
    line: String(config.amplifier.relayLine),
    clock,
    warmUpMs: config.amplifier.warmUpMs,
    holdMs: config.amplifier.holdMs,
    activeLow: config.amplifier.activeLow,
    ...(lineProbe ? { probe: lineProbe } : {}),
    ...(onFault ? { onFault } : {}),
  });
  return { sink, liveSink, amplifier, lineProbe };
}

/** Everything a real receiver runs on, from its config file. */
export async function receiverParts(config: AgentConfig, log: Log): Promise<AgentParts> {
  const clock = systemClock;
  const storage = await FileStorage.open(config.dataDir);
  // Faults the amplifier and the sound path find latch in the agent (bound once it runs).
  let raiseFault: ((code: FaultCode, detail: string) => void) | undefined;
  const { sink, liveSink, amplifier, lineProbe } = audioParts(config, clock, (code, detail) =>
    raiseFault?.(code, detail),
  );
  return {
    config,
    clock,
    storage,
    board: linuxBoard({
      dataDir: config.dataDir,
      temperatureFile: config.health.temperatureFile,
      ...(config.health.powerCommand ? { powerCommand: config.health.powerCommand } : {}),
      rebootCommand: config.health.rebootCommand,
    }),
    modem: commandModem(config.health.modemCommand),
    ...(lineProbe ? { lineProbe } : {}),
    amplifierOn: () => amplifier.on,
    renderer: ({ readAsset, volume, controllerTime, liveSessions, raiseFault: raise }) => {
      raiseFault = raise;
      return routeLive(
        new AudioRenderer({ sink, amplifier, clock, readAsset, masterVolume: volume, onFault: raise }),
        new LiveRenderer({
          sink: liveSink,
          amplifier,
          clock,
          controllerTime,
          sessions: liveSessions,
          readAsset,
          masterVolume: volume,
          onFault: raise,
        }),
        isLiveItem(liveSessions),
      );
    },
    log,
  };
}
