// Builds the operator screen (renderer/) into renderer/dist: `vite build` (npm run build:renderer).
// React's JSX goes through esbuild's automatic runtime; no plugin, no dev-server-only code.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('./renderer', import.meta.url)),
  base: './',
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No inline scripts or data: URLs the CSP would refuse.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
