// The printed lead package as the commander gets it: opens the demo's package HTML in Debian's
// headless Chromium with print media at A4 (96 dpi), checks that it loads nothing from
// anywhere and has its sections, and saves a screenshot of the first printed page.
// Usage: node tests/package.mjs PACKAGE_HTML OUT_PNG
import { chromium } from "playwright-core";

const [file, out] = process.argv.slice(2);
if (!file || !out) {
  console.error("usage: node tests/package.mjs PACKAGE_HTML OUT_PNG");
  process.exit(2);
}
const check = (cond, msg) => { if (!cond) throw new Error("FAILED: " + msg); console.log("ok - " + msg); };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
});
try {
  const page = await (await browser.newContext({ viewport: { width: 794, height: 1123 } })).newPage();
  const requests = [];
  page.on("request", (r) => { if (!r.url().startsWith("file://")) requests.push(r.url()); });
  await page.goto("file://" + file);
  await page.emulateMedia({ media: "print" });
  check(requests.length === 0, "the package loads nothing from anywhere: " + requests.join(", "));
  const headings = await page.$$eval("h2", (hs) => hs.map((h) => h.textContent));
  for (const h of ["Resumen", "Mapa", "Cronología", "Evidencia", "Embarques vinculados", "Partes vinculadas", "Confianza", "Procedencia"]) {
    check(headings.includes(h), "section " + h);
  }
  check(await page.$("svg circle") !== null, "the map draws the lead site");
  const banner = await page.textContent(".tlp");
  check(/^TLP:/.test(banner.trim()), "the marking banner reads " + banner.trim());
  await page.screenshot({ path: out, clip: { x: 0, y: 0, width: 794, height: 1123 } });
} finally {
  await browser.close();
}
