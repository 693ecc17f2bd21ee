/// <reference types="vitest/config" />
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * Write .gz and .br copies beside the built JS and CSS. WhiteNoise serves such
 * a copy to a browser that accepts it, so the bundle goes over the wire
 * compressed (about a third of its size) without compressing per request.
 */
function precompress(): Plugin {
  let outDir = '';
  return {
    name: 'chat-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    writeBundle() {
      const assets = join(outDir, 'assets');
      for (const name of readdirSync(assets)) {
        if (!/\.(js|css|svg)$/.test(name)) continue;
        const data = readFileSync(join(assets, name));
        writeFileSync(join(assets, `${name}.gz`), gzipSync(data, { level: 9 }));
        writeFileSync(
          join(assets, `${name}.br`),
          brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        );
      }
    },
  };
}

// The Django server serves static/app/index.html at "/" and the assets
// under /static/app/. In `npm run dev`, API and socket calls are proxied to a
// local server (CHAT_DEV_SERVER, default http://127.0.0.1:8010).
const devServer = process.env.CHAT_DEV_SERVER ?? 'http://127.0.0.1:8010';

export default defineConfig({
  base: '/static/app/',
  plugins: [react(), precompress()],
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
    setupFiles: ['src/test/setup.ts'],
    restoreMocks: true,
  },
});
