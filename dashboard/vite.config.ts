import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { loadDashboardConfig } from './src/config.js';

// The app is served by the controller under /app/; in development Vite serves it and
// hands every other path (the API, /events, /live/.../audio) to CONTROLLER_URL.
const config = loadDashboardConfig();

export default defineConfig({
  root: 'app',
  base: '/app/',
  plugins: [react()],
  define: { __MAP_TILE_URL__: JSON.stringify(config.MAP_TILE_URL) },
  build: { outDir: '../dist/app', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1500 },
  server: {
    proxy: { '^/(?!app/).*': { target: config.CONTROLLER_URL, ws: true, changeOrigin: false } },
  },
});
