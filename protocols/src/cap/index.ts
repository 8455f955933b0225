export * from './atom-feed.js';
export * from './cap-datetime.js';
export { type CapIssue, type CapIssueCode, MAX_CAP_ISSUES } from './cap-issue.js';
export * from './cap-model.js';
export * from './cap-rules.js';
export * from './parse-atom-feed.js';
export { CAP_MAX_BYTES, type CapParseOptions, type CapParseResult, parseCap } from './parse-cap.js';
export * from './write-atom-feed.js';
export { CapWriteError, writeCap } from './write-cap.js';
