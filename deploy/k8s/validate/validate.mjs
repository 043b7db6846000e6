// Validates Kubernetes manifests: node validate.mjs [FILE.yaml | -] ... (default: every overlay of
// deploy/k8s rendered with `kubectl kustomize`). Each object is checked two ways:
//   1. kubernetes-models' schema validation (the Kubernetes OpenAPI schemas, and Strimzi's CRD
//      schemas for kafka.strimzi.io): types, required fields, formats, enums;
//   2. unknown fields rejected: every object becomes `new Kind({...})` in a TypeScript file that
//      tsc checks, whose excess-property check refuses any field the schema does not declare.
// Prints one line per problem ("SOURCE: Kind/name: problem") and exits 1 on any.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const here = dirname(fileURLToPath(import.meta.url));
const k8s = dirname(here);

// apiVersion -> the module of its models
function modulePath(apiVersion) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group === "kafka.strimzi.io" || group === "core.strimzi.io")
    return `@kubernetes-models/strimzi-kafka-operator/${group}/${version}`;
  return group === "" ? `kubernetes-models/${version}` : `kubernetes-models/${group}/${version}`;
}

function sources(args) {
  if (args.length > 0)
    return args.map((f) => ({ name: f, text: readFileSync(f === "-" ? 0 : f, "utf8") }));
  const overlays = ["base", "overlays/dev", "overlays/production"];
  return overlays.map((o) => ({
    name: `deploy/k8s/${o}`,
    text: execFileSync("kubectl", ["kustomize", join(k8s, o)], { encoding: "utf8" }),
  }));
}

const problems = [];
const objects = [];  // {source, kind, name, module, data}
for (const { name: source, text } of sources(process.argv.slice(2))) {
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) {
      problems.push(`${source}: YAML: ${doc.errors[0].message}`);
      continue;
    }
    const data = doc.toJS();
    if (!data) continue;
    const label = `${data.kind}/${data.metadata?.name ?? "?"}`;
    if (!data.apiVersion || !data.kind) {
      problems.push(`${source}: ${label}: no apiVersion or kind`);
      continue;
    }
    const module = modulePath(data.apiVersion);
    let Model;
    try {
      Model = (await import(module))[data.kind];
    } catch {
      Model = undefined;
    }
    if (!Model) {
      problems.push(`${source}: ${label}: unknown kind ${data.apiVersion} ${data.kind}`);
      continue;
    }
    try {
      new Model(data).validate();
    } catch (e) {
      problems.push(`${source}: ${label}: ${e.message.replace(/\s+/g, " ")}`);
    }
    objects.push({ source, label, module, kind: data.kind, data });
  }
}

// Unknown fields: one TypeScript statement per object, checked by tsc.
const dir = mkdtempSync(join(tmpdir(), "pairflow-k8s-"));
try {
  const imports = new Map();
  for (const o of objects) {
    if (!imports.has(o.module)) imports.set(o.module, new Set());
    imports.get(o.module).add(o.kind);
  }
  let ts = "";
  let n = 0;
  const aliases = new Map();
  for (const [module, kinds] of imports) {
    for (const kind of kinds) {
      const alias = `M${n++}`;
      aliases.set(`${module}|${kind}`, alias);
      ts += `import { ${kind} as ${alias} } from "${module}";\n`;
    }
  }
  const lineOf = [];
  ts += "\n";
  for (const o of objects) {
    lineOf.push(ts.split("\n").length);
    const { apiVersion, kind, ...fields } = o.data;  // the constructor sets these two
    ts += `new ${aliases.get(`${o.module}|${o.kind}`)}(${JSON.stringify(fields)});\n`;
  }
  const file = join(dir, "manifests.ts");
  writeFileSync(file, ts);
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, target: "es2022", module: "es2022",
                       moduleResolution: "bundler", skipLibCheck: true,
                       typeRoots: [], baseUrl: here, paths: { "*": [join(here, "node_modules/*")] } },
    files: [file],
  }));
  try {
    execFileSync(join(here, "node_modules/.bin/tsc"), ["-p", join(dir, "tsconfig.json")],
                 { encoding: "utf8", stdio: "pipe" });
  } catch (e) {
    for (const line of String(e.stdout).split("\n")) {
      const m = /manifests\.ts\((\d+),\d+\): error TS\d+: (.*)/.exec(line);
      if (!m) continue;
      const at = Number(m[1]);
      let k = lineOf.length - 1;
      while (k > 0 && lineOf[k] > at) k--;
      problems.push(`${objects[k].source}: ${objects[k].label}: ${m[2]}`);
    }
    if (!problems.length) problems.push(`tsc failed: ${String(e.stdout).slice(0, 500)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

for (const p of problems) console.log(p);
console.log(`validate: ${objects.length} objects, ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
