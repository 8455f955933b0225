export * from './config/agent-config.js';
export * from './config/agent-env.js';
