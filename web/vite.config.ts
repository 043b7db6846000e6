// Build config of the pairflow dashboard. Checked by vite itself (tsconfig covers src/ only:
// this file runs in Node and the project carries no @types/node).
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';
import { resolve, isAbsolute } from 'node:path';

const here = fileURLToPath(new URL('.', import.meta.url));

// Where the built static files go; the pairflow server serves them at `/`.
// PAIRFLOW_WEB_OUT should be absolute (a relative value is taken from web/).
const out = process.env.PAIRFLOW_WEB_OUT;
const outDir = out ? (isAbsolute(out) ? out : resolve(here, out)) : resolve(here, '../build/web');

// `npx vite` (dev server) proxies the API to a running pairflow, default http://127.0.0.1:8080.
const api = process.env.PAIRFLOW_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  base: './',
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1024,
    reportCompressedSize: true,
  },
  server: {
    proxy: {
      '/api': { target: api, ws: true, changeOrigin: true },
    },
  },
});
