// Vite build of the web app: one static bundle in dist/, served with its
// runtime config.json by scripts/serve.mjs.
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  build: {
    outDir: "dist",
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 1500,
  },
});
