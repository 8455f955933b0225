export * from './config.js';
export * from './fleet/fleet.js';
export * from './fleet/recording-renderer.js';
export * from './fleet/virtual-clock.js';
export * from './fleet/virtual-receiver.js';
export * from './registry/controller-registry.js';
