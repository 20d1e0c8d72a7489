import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { layersPlugin } from "./eslint/layers.js";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "src/gen/**", "**/gen/**", "admin-ui/dist/**", ".prof/**", ".bench-results/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": "error",
    },
  },
  {
    // The package graph: see docs/architecture.md and eslint/layers.js.
    files: ["src/**/*.ts"],
    plugins: { goms: layersPlugin },
    rules: { "goms/layers": "error" },
  },
  {
    // goms/web runs in browsers: web APIs only (docs/gateway.md "goms/web").
    files: ["src/web/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["node:*"], message: "goms/web runs in browsers: no Node built-ins" }] }],
      "no-restricted-globals": ["error", "Buffer", "process", "setImmediate", "require"],
    },
  },
  {
    files: ["src/cli/**", "examples/**", "bench/**", "scripts/**", "test/**"],
    rules: { "no-console": "off" },
  },
  {
    files: ["**/*.mjs", "**/*.cjs", "**/*.js"],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly", setTimeout: "readonly" } },
  },
);
