// The package graph of src/, enforced by lint: a file imports only from its own
// folder or from a lower layer. docs/architecture.md draws the same table.
// Folders are matched longest first ("internal/conn" before "internal").
import path from "node:path";

/** Layer of each folder under src/: lower numbers are lower layers. */
export const LAYERS = {
  errors: 0,
  version: 0,
  gen: 0,
  "internal/util": 1,
  codec: 1,
  web: 2,
  kv: 2,
  "internal/wire": 2,
  "internal/transport": 2,
  "internal/http": 2,
  "internal/admission": 2,
  "internal/health": 2,
  "internal/conn": 3,
  rpc: 4,
  registry: 5,
  watch: 5,
  "json-call": 5,
  monitor: 5,
  gateway: 6,
  testing: 6,
  instances: 6,
  admin: 7,
  cli: 8,
};

/**
 * Folders that others may use only through their public index: what they
 * export there is their contract (the console, say, must not reach into the
 * gateway's transcoding or descriptor code; it has the JSON-call module).
 */
export const INDEX_ONLY = ["gateway", "json-call"];

const folders = Object.keys(LAYERS).sort((a, b) => b.length - a.length);

/** The folder (a LAYERS key) of a path relative to src/, or undefined outside src/. */
export function folderOf(rel) {
  const p = rel.split(path.sep).join("/");
  for (const f of folders) if (p === `${f}.ts` || p.startsWith(`${f}/`)) return f;
  return undefined;
}

function check(context, node, source) {
  if (typeof source !== "string" || !source.startsWith(".")) return;
  const file = context.filename ?? context.getFilename();
  const srcRoot = path.resolve(context.cwd ?? process.cwd(), "src");
  const fromRel = path.relative(srcRoot, file);
  if (fromRel.startsWith("..")) return;
  const toRel = path.relative(srcRoot, path.resolve(path.dirname(file), source));
  const from = folderOf(fromRel);
  const to = folderOf(toRel);
  if (from === undefined || to === undefined || from === to) return;
  const target = toRel.split(path.sep).join("/").replace(/\.(js|ts)$/, "");
  if (LAYERS[to] < LAYERS[from]) {
    if (INDEX_ONLY.includes(to) && target !== `${to}/index`) context.report({ node, messageId: "private", data: { from, to } });
    return;
  }
  context.report({
    node,
    messageId: LAYERS[to] === LAYERS[from] ? "sideways" : "upward",
    data: { from, to, fromLayer: String(LAYERS[from]), toLayer: String(LAYERS[to]) },
  });
}

export const layersPlugin = {
  rules: {
    layers: {
      meta: {
        type: "problem",
        docs: { description: "imports follow the layers of docs/architecture.md" },
        messages: {
          upward: "src/{{from}} (layer {{fromLayer}}) must not import src/{{to}} (layer {{toLayer}}): imports go down the layers (docs/architecture.md). Add a seam instead.",
          sideways: "src/{{from}} and src/{{to}} are both layer {{fromLayer}} and must not import each other (docs/architecture.md).",
          private: "src/{{from}} may use src/{{to}} only through src/{{to}}/index.ts, its public surface.",
          dynamic: "import() with a computed path hides an edge of the package graph: import statically, or pass the dependency in.",
        },
        schema: [],
      },
      create(context) {
        return {
          ImportDeclaration: (n) => check(context, n, n.source.value),
          ExportNamedDeclaration: (n) => n.source && check(context, n, n.source.value),
          ExportAllDeclaration: (n) => check(context, n, n.source.value),
          ImportExpression(n) {
            if (n.source.type === "Literal") check(context, n, n.source.value);
            else context.report({ node: n, messageId: "dynamic" });
          },
        };
      },
    },
  },
};
