// Builds the UI into dist/ (committed, and embedded by rastro-server so that `cargo run`
// needs no npm): one JS bundle, one CSS file, the page, and the Natural Earth country outlines.
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync, writeFileSync, readFileSync, readdirSync, statSync } from "node:fs";
import { createHash } from "node:crypto";

mkdirSync("dist", { recursive: true });
await esbuild.build({
  entryPoints: ["src/app.js"],
  bundle: true,
  minify: true,
  format: "iife",
  outfile: "dist/app.js",
  loader: { ".ftl": "text", ".png": "dataurl" },
  legalComments: "none",
});
await esbuild.build({
  entryPoints: ["src/app.css"],
  bundle: true,
  minify: true,
  outfile: "dist/app.css",
  loader: { ".png": "dataurl" },
});
copyFileSync("src/index.html", "dist/index.html");
copyFileSync("node_modules/world-atlas/countries-50m.json", "dist/countries-50m.json");
// A digest of the sources, so a test can tell when dist/ is stale.
const h = createHash("sha256");
const walk = (d) => readdirSync(d).sort().flatMap((f) => (statSync(d + "/" + f).isDirectory() ? walk(d + "/" + f) : [d + "/" + f]));
for (const f of ["build.mjs", "package.json", "package-lock.json", ...walk("src")]) {
  h.update(f);
  h.update(readFileSync(f));
}
writeFileSync("dist/SOURCES.sha256", h.digest("hex") + "\n");
