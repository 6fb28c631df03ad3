// The fleet page in headless Chromium (playwright-core, Debian's chromium): it loads with a
// view link, shows every device, highlights the ones that need attention, keeps the grant out
// of the network request URL, and fails closed without a grant. Saves a screenshot.
// Usage: node fleet-page.mjs LINK SCREENSHOT.png
import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [link, shot] = process.argv.slice(2);
const fail = (m) => { console.error("FAIL: " + m); process.exit(1); };
const userDir = mkdtempSync(join(tmpdir(), "ql-chromium-"));
// A fresh user-data-dir (playwright's persistent context passes it as --user-data-dir).
const browser = await chromium.launchPersistentContext(userDir, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1400, height: 520 },
});
try {
  const page = await browser.newPage();
  const urls = [];
  const errors = [];
  page.on("request", (r) => urls.push(r.url()));
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  await page.goto(link);
  await page.waitForSelector("#status[data-loaded]", { timeout: 15000 });
  if ((await page.getAttribute("#status", "data-loaded")) !== "true") fail("the page did not load the fleet: " + (await page.textContent("#status")));
  const rows = await page.$$eval("#fleet tbody tr", (trs) => trs.map((tr) => ({
    cls: tr.className, text: tr.innerText, flags: [...tr.querySelectorAll(".flag")].map((f) => f.textContent) })));
  console.log(JSON.stringify(rows, null, 1));
  if (rows.length !== 5) fail("expected 5 devices, got " + rows.length);
  const flagged = (name) => rows.filter((r) => r.flags.includes(name));
  if (flagged("unacked wipe").length !== 1 || !flagged("unacked wipe")[0].cls.includes("danger")) fail("the unacknowledged wipe is not highlighted");
  if (flagged("silent").length !== 1 || !flagged("silent")[0].cls.includes("danger")) fail("the silent phone is not highlighted");
  if (flagged("non compliant").length !== 1 || !flagged("non compliant")[0].text.includes("secure_lock_missing")) fail("the non-compliant phone is not shown with its finding");
  if (rows.filter((r) => r.flags.length === 0 && r.cls === "").length < 1) fail("no healthy phone shown plainly");
  if (!rows.some((r) => r.text.includes("waiting for the phone"))) fail("the announced phone is missing");
  const grant = decodeURIComponent(new URL(link).hash.slice(1));
  if (urls.some((u) => u.includes(grant.split(".")[2]))) fail("the grant appeared in a request URL");
  if (errors.length) fail("console errors: " + errors.join("; "));
  await page.screenshot({ path: shot, fullPage: true });
  // Without a grant the page shows nothing but how to get one.
  const bare = await browser.newPage();
  await bare.goto(link.split("#")[0]);
  const s = await bare.textContent("#status");
  if (!s.includes("needs a view link") || (await bare.$$("#fleet tbody tr")).length !== 0) fail("the page without a grant shows data");
  // A tampered grant is refused by the relay and the page says so.
  const bad = await browser.newPage();
  await bad.goto(link.replace(/.$/, (c) => (c === "A" ? "B" : "A")));
  await bad.waitForSelector("#status[data-loaded]", { timeout: 15000 });
  if ((await bad.getAttribute("#status", "data-loaded")) !== "error") fail("a tampered grant was accepted");
  console.log("PASS: fleet page (" + rows.length + " devices), screenshot " + shot);
} finally {
  await browser.close();
}
