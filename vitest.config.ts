import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests import workspace packages from source, so no build is needed before testing.
const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@loa\/protocols$/, replacement: src('./protocols/src/index.ts') },
      { find: /^@loa\/edge-agent$/, replacement: src('./edge-agent/src/index.ts') },
      { find: /^@loa\/controller$/, replacement: src('./controller/src/index.ts') },
    ],
  },
  test: {
    projects: ['protocols', 'controller', 'edge-agent', 'simulator', 'dashboard'].map((name) => ({
      extends: true,
      test: {
        name,
        include: [`${name}/test/**/*.test.ts`],
        testTimeout: 20_000,
        // The browser tests (a controller, a fleet and Chromium each) run after the rest,
        // so they do not load the machine under the simulator's timing-sensitive scenarios.
        sequence: { groupOrder: name === 'dashboard' ? 1 : 0 },
      },
    })),
  },
});
