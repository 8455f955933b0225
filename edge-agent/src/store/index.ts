// Everything persistent on a receiver goes through a Storage (hardware/seams.ts): files on
// the receiver, memory in the simulator and tests.
export * from './durable-document.js';
export * from './file-storage.js';
export * from './memory-storage.js';
export * from './names.js';
export * from './outbox.js';
export * from './replay-store.js';
