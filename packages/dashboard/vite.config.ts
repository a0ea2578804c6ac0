/**
 * @module vite.config
 * Preact needs no plugin: esbuild/oxc compile JSX with `jsxImportSource: "preact"` from tsconfig.
 * `npm run dev -w @tollgate/dashboard` proxies the API to a running `tollgate serve` (TOLLGATE_URL).
 */
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  build: { target: 'es2022', sourcemap: false, assetsInlineLimit: 0, chunkSizeWarningLimit: 200 },
  server: { proxy: { '/v1': process.env.TOLLGATE_URL ?? 'http://127.0.0.1:8787' } },
});
