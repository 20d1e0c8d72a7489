import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The demo's page (npm run build): served by the demo at /watch/ on the gateway's origin.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/watch/",
  build: {
    outDir: fileURLToPath(new URL("../../../dist/demo-page", import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
  },
  logLevel: "warn",
});
