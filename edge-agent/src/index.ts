// The agent and its parts, for the receiver service and for the simulator, which runs this
// exact code with virtual parts.
export * from './agent.js';
export * from './audio/amplifier.js';
export * from './audio/null-sink.js';
export * from './audio/ogg-opus-writer.js';
export * from './audio/virtual-gpio.js';
export * from './config/agent-config.js';
export * from './config/agent-env.js';
export * from './hardware/manual-clock.js';
export type * from './hardware/seams.js';
export * from './hardware/system-clock.js';
export * from './live/jitter-buffer.js';
export * from './live/live-decoder.js';
export * from './live/live-renderer.js';
export * from './live/live-session.js';
export * from './live/live-sessions.js';
export * from './live/route-live.js';
export * from './playback/renderer.js';
export * from './playback/timed-renderer.js';
export * from './store/memory-storage.js';
