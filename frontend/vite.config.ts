/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The Django server serves static/app/index.html at "/" and the assets
// under /static/app/. In `npm run dev`, API and socket calls are proxied to a
// local server (CHAT_DEV_SERVER, default http://127.0.0.1:8010).
const devServer = process.env.CHAT_DEV_SERVER ?? 'http://127.0.0.1:8010';

export default defineConfig({
  base: '/static/app/',
  plugins: [react()],
  build: {
    outDir: '../static/app',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      '/api': { target: devServer, changeOrigin: true },
      '/ws': { target: devServer, ws: true, changeOrigin: true },
    },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.{ts,tsx}'],
    restoreMocks: true,
  },
});
