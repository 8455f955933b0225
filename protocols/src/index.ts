// The wire contract. Everything that crosses MQTT is declared here and nowhere else.
export * from './vocabulary/index.js';

export * from './messages/common.js';
export * from './messages/faults.js';
export * from './messages/receiver-state.js';
export * from './messages/telemetry.js';
export * from './messages/events.js';
export * from './messages/decode-event.js';
export * from './messages/registry.js';

export * from './commands/playable.js';
export * from './commands/bodies.js';
export * from './commands/envelope.js';

export * from './topics/topic-specs.js';
export * from './topics/topics.js';
export * from './topics/acl.js';

export * from './signing/reasons.js';
export * from './signing/signature-fields.js';
export * from './signing/keys.js';
export * from './signing/signed-document.js';
export * from './signing/replay-guard.js';
export * from './signing/command-signer.js';
export * from './signing/command-verifier.js';

export * from './time-sync/messages.js';
export * from './time-sync/time-response.js';

export * from './live/live-packet.js';

export * from './validation/validate.js';
export * from './validation/decode.js';

export { buildAsyncApi } from './asyncapi/build-asyncapi.js';

export * from './config/env-config.js';
