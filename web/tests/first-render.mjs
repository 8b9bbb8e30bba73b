// Measures the map's first render: from navigation (with a logged-in session) until the page
// marks the map ready, i.e. outlines, ports, alerts and leads are drawn. With VIEW=operations,
// the operations board's first render instead: from the click on its tab until every card
// is drawn. Prints each run and the median.
// Usage: node tests/first-render.mjs BASE_URL TOKENS_FILE  (RUNS, default 5; USER_NAME, default
// analista; VIEW, map or operations)
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";

const [base, tokensFile] = process.argv.slice(2);
const user = process.env.USER_NAME || "analista";
const view = process.env.VIEW || "map";
const token = readFileSync(tokensFile, "utf8").split("\n").find((l) => l.startsWith(user + " ")).split(" ")[1];
const runs = Number(process.env.RUNS || 5);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const times = [];
for (let i = 0; i < runs; i++) {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  await ctx.addInitScript((t) => sessionStorage.setItem("rastro-token", t), token);
  const page = await ctx.newPage();
  let t0 = Date.now();
  await page.goto(base + "/");
  await page.waitForSelector("body[data-map-ready='1']", { timeout: 60000 });
  if (view === "operations") {
    t0 = Date.now();
    await page.click("#nav [data-view=operations]");
    await page.waitForSelector("body[data-ops-ready='1']", { timeout: 60000 });
  }
  // One more frame, so the drawing has been painted.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
  const ms = Date.now() - t0;
  const stats = view === "operations" ? (await page.locator(".op-card").count()) + " operations" : await page.textContent("#map-stats");
  times.push(ms);
  console.log(`run ${i + 1}: ${ms} ms (${stats})`);
  await ctx.close();
}
await browser.close();
times.sort((a, b) => a - b);
console.log(`median first render: ${times[Math.floor(times.length / 2)]} ms`);
