import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// JSX via Vite's built-in transform (Oxc in Vite 8): automatic runtime from preact, no plugins.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: fileURLToPath(new URL("../dist/admin-ui", import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  server: { proxy: { "/api": "http://127.0.0.1:8092" } },
  logLevel: "warn",
});
