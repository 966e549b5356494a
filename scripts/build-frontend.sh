#!/usr/bin/env bash
# Builds the vendored browser bundle (CodeMirror 6 editor + KaTeX) from
# frontend/ into src/codebattle/web/static/vendor/. The built files are
# committed, so the app itself never needs Node.js; run this only after
# changing frontend/ (needs Node.js >= 18 and npm, and the npm registry).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/src/codebattle/web/static/vendor"

cd "$root/frontend"
# Exact versions from package-lock.json. Dependency install scripts are not
# needed: esbuild's binary comes from its @esbuild/<platform> package.
npm ci --ignore-scripts --no-audit --no-fund

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

npx --no-install esbuild src/editor.js \
    --bundle \
    --minify \
    --format=iife \
    --target=es2020 \
    --legal-comments=none \
    --metafile="$tmp/meta.json" \
    --outfile="$tmp/editor.js" \
    --log-level=warning

rm -rf "$out"
mkdir -p "$out/fonts"
cp "$tmp/editor.js" "$out/editor.js"

# KaTeX CSS: keep only the woff2 sources (every browser that runs CodeMirror 6
# reads woff2), so the woff/ttf files need not be shipped. url()s stay
# relative: fonts/ sits next to katex.min.css.
sed -E 's#,url\(fonts/[A-Za-z0-9_-]+\.woff\) format\("woff"\),url\(fonts/[A-Za-z0-9_-]+\.ttf\) format\("truetype"\)##g' \
    node_modules/katex/dist/katex.min.css > "$out/katex.min.css"
cp node_modules/katex/dist/fonts/*.woff2 "$out/fonts/"

# Every url() in the CSS must name a shipped woff2 file.
node - "$out" <<'EOF'
const fs = require("fs");
const path = require("path");
const out = process.argv[2];
const css = fs.readFileSync(path.join(out, "katex.min.css"), "utf8");
const urls = [...css.matchAll(/url\(([^)]+)\)/g)].map((m) => m[1].replace(/["']/g, ""));
if (urls.length === 0) throw new Error("katex.min.css: no url() found");
for (const u of urls) {
  if (!/^fonts\/[\w-]+\.woff2$/.test(u)) throw new Error("katex.min.css: unexpected url(" + u + ")");
  if (!fs.existsSync(path.join(out, u))) throw new Error("katex.min.css: missing " + u);
}
EOF

# README with versions, and the licences of every package in the bundle
# (the minified bundle carries no comments).
node - "$out" "$tmp/meta.json" <<'EOF'
const fs = require("fs");
const path = require("path");
const [out, metaFile] = process.argv.slice(2);
const meta = JSON.parse(fs.readFileSync(metaFile, "utf8"));
const pkgs = new Map();
for (const input of Object.keys(meta.inputs)) {
  const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (m) pkgs.set(m[1], path.join("node_modules", m[1]));
}
const names = [...pkgs.keys()].sort();
const info = names.map((name) => {
  const dir = pkgs.get(name);
  const pj = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  const lic = fs.readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
  return {
    name,
    version: pj.version,
    license: pj.license || "see package",
    text: lic ? fs.readFileSync(path.join(dir, lic), "utf8").trim() : "(no licence file in the package)",
  };
});
const top = JSON.parse(fs.readFileSync("package.json", "utf8"));
const esbuildVersion = JSON.parse(fs.readFileSync("node_modules/esbuild/package.json", "utf8")).version;

fs.writeFileSync(
  path.join(out, "THIRD_PARTY_LICENSES.txt"),
  "Licences of the npm packages bundled into editor.js, katex.min.css and fonts/.\n\n" +
    // Packages with the same licence text share one copy of it.
    [...info.reduce((m, p) => m.set(p.text, [...(m.get(p.text) || []), p]), new Map())]
      .map(([text, ps]) => `==== ${ps.map((p) => `${p.name} ${p.version}`).join(", ")} ====\n\n${text}\n`)
      .join("\n"),
);

const size = (f) => fs.statSync(path.join(out, f)).size;
const fonts = fs.readdirSync(path.join(out, "fonts"));
const fontBytes = fonts.reduce((s, f) => s + size(path.join("fonts", f)), 0);
const kib = (n) => (n / 1024).toFixed(0) + " KiB";
fs.writeFileSync(
  path.join(out, "README.md"),
  `# Vendored front-end files — do not edit by hand

Built by \`scripts/build-frontend.sh\` from \`frontend/\` (sources in
\`frontend/src/\`, exact versions in \`frontend/package-lock.json\`). To change
them, edit \`frontend/\` and run the script again; commit the result. The app
serves these files as they are and never needs Node.js.

| file | what | size |
| --- | --- | --- |
| \`editor.js\` | one minified IIFE bundle (esbuild ${esbuildVersion}) of \`frontend/src/editor.js\`: CodeMirror 6 with Python, C++ and Java modes, and KaTeX; defines \`window.CodeBattleEditor\` | ${kib(size("editor.js"))} |
| \`katex.min.css\` | KaTeX's stylesheet, reduced to woff2 font sources; its \`url(fonts/...)\` paths are relative to itself | ${kib(size("katex.min.css"))} |
| \`fonts/\` | KaTeX's ${fonts.length} woff2 fonts | ${kib(fontBytes)} |
| \`THIRD_PARTY_LICENSES.txt\` | licences of the bundled packages | ${kib(size("THIRD_PARTY_LICENSES.txt"))} |

Load \`katex.min.css\` and \`editor.js\`, then use
\`CodeBattleEditor.create(element, {language, doc, onSubmit, onChange, dark})\`
and \`CodeBattleEditor.renderMath(element)\` (see \`frontend/src/editor.js\`).

Top-level packages (as pinned in \`frontend/package.json\`):

${Object.entries({ ...top.dependencies, ...top.devDependencies }).map(([n, v]) => `- ${n} ${v}`).join("\n")}

Every package in the bundle:

${info.map((p) => `- ${p.name} ${p.version} (${p.license})`).join("\n")}
`,
);
EOF

echo "Built into ${out#"$root/"}:"
(cd "$out" && du -b editor.js katex.min.css THIRD_PARTY_LICENSES.txt README.md && du -sb fonts && du -sb .)
