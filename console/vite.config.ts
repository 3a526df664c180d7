import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The admin console: built into dist/console, which the function app serves at its root (functions/console.ts).
 * Everything is bundled: no CDN, no third-party request, no inline script (the page's CSP allows only 'self').
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  // `npm run console:dev`: the API of `npm start`'s local host, reached through the dev server (same origin).
  server: { host: '127.0.0.1', proxy: { '/api': process.env.USERSYNC_DEV_API ?? 'http://127.0.0.1:7071' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    // Vite inlines small assets as data: URLs by default; the CSP allows images and fonts from 'self' only.
    assetsInlineLimit: 0,
  },
});
