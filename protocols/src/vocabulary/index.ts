export * from './alert-status.js';
export * from './area-levels.js';
export * from './hazards.js';
export * from './languages.js';
export * from './priorities.js';
export * from './risk-levels.js';
