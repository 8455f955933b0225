// The simulator as a library: fleets of real agents (in process or in worker processes),
// the fault proxy, a private system to run them against, scenarios and their metrics.
export * from './audio/wav-file.js';
export * from './config.js';
export * from './faults/fault-proxy.js';
export * from './faults/live-packet-loss.js';
export * from './fleet/fleet.js';
export * from './fleet/fleet-workers.js';
export type * from './fleet/live-record.js';
export * from './fleet/live-recording-renderer.js';
export * from './fleet/recording-renderer.js';
export * from './fleet/virtual-clock.js';
export * from './fleet/virtual-receiver.js';
export * from './fleet/virtual-sound-card.js';
export * from './harness/controller-process.js';
export * from './harness/mosquitto.js';
export * from './harness/system.js';
export * from './metrics/latency.js';
export * from './metrics/live-analysis.js';
export * from './metrics/play-analysis.js';
export * from './metrics/tones.js';
export * from './registry/controller-client.js';
export * from './registry/controller-registry.js';
export * from './scenarios/live-cli-push.js';
export * from './scenarios/load-scenario.js';
export * from './scenarios/run-hooks.js';
export * from './scenarios/scenario-report.js';
export * from './scenarios/scenario-runner.js';
export type * from './scenarios/scenario-schema.js';
