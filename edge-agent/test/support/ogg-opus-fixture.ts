// Test fixtures: real Ogg Opus files made in the test (the writer lives with the agent's
// audio code, where the simulator uses it too).
export { oggCrc32, oggOpusFile, sine } from '../../src/audio/ogg-opus-writer.js';
