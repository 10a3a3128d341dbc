// Generates a TypeScript client for every contract from its committed
// schema (schema/<contract>.json) into src/contracts/ (not committed: it is
// rebuilt from the schema, the single source of truth).
import { readdirSync, mkdirSync, copyFileSync, rmSync } from "node:fs";
import { join, dirname, basename } from "node:path";
import { fileURLToPath } from "node:url";
import codegen from "@cosmwasm/ts-codegen";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const schemaDir = join(root, "schema");
const work = join(here, "..", "node_modules", ".schema");
const out = join(here, "..", "src", "contracts");

rmSync(work, { recursive: true, force: true });
rmSync(out, { recursive: true, force: true });
const contracts = readdirSync(schemaDir)
  .filter((f) => f.endsWith(".json"))
  .map((f) => {
    const name = basename(f, ".json");
    // ts-codegen reads one directory per contract.
    const dir = join(work, name);
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(schemaDir, f), join(dir, f));
    const pascal = name.replace(/(^|-)(\w)/g, (_, __, c) => c.toUpperCase());
    return { name: pascal, dir };
  });

await codegen.default({
  contracts,
  outPath: out,
  options: {
    bundle: { enabled: true, bundleFile: "index.ts", scope: "contracts" },
    types: { enabled: true },
    client: { enabled: true },
    messageComposer: { enabled: true },
    reactQuery: { enabled: false },
    recoil: { enabled: false },
  },
});
console.log(`generated ${contracts.length} clients into ${out}`);
