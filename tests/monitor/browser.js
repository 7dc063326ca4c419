// Drives Debian's Chromium through playwright-core (never a downloaded browser): log in with
// an API token, keep the dashboard open, submit a job through the form, watch live log lines
// arrive on the job page and the new job appear and finish on the dashboard without a reload.
// Screenshots go to $FBS_SHOTS. Prints one JSON line with what it saw.
"use strict";
const { chromium } = require("playwright-core");
const path = require("path");
const fs = require("fs");
const os = require("os");

const base = process.env.FBS_URL;
const token = process.env.FBS_TOKEN;
const shots = process.env.FBS_SHOTS;
const staging = process.env.FBS_STAGING;

(async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "fbs-chromium-"));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.FBS_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1100, height: 800 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const seen = {};
  try {
    const dash = await ctx.newPage();
    await dash.goto(base + "/login");
    await dash.fill("input[name=token]", token);
    await Promise.all([dash.waitForURL(base + "/"), dash.click("form#login button")]);
    seen.dashboard_rows_before = await dash.locator("#jobs tbody tr").count();

    const page = await ctx.newPage();
    await page.goto(base + "/submit");
    await page.selectOption("select[name=type]", "boot");
    await page.selectOption("select[name=arch]", "x86_64");
    await page.fill("input[name=release]", "17");
    await page.fill("textarea[name=repos]", "fedora http://example.org/os/");
    await page.fill("input[name=staging]", "file://" + staging);
    await page.fill("input[name=email]", "qa@example.org");
    await Promise.all([page.waitForURL(/\/jobs\/[0-9a-f-]{36}$/), page.click("form#submit button")]);
    const id = page.url().split("/").pop();
    seen.job = id;

    // Live lines while the job runs.
    await page.waitForFunction(() => document.querySelector("pre#log").textContent.includes("build step 3 of"), null, { timeout: 60000 });
    seen.live_text = await page.locator("pre#log").textContent();
    seen.live_status = await page.locator("#log-status").textContent();
    await page.screenshot({ path: path.join(shots, "job-live.png"), fullPage: true });

    // The dashboard, never reloaded, shows the new job and then its end.
    await dash.waitForSelector(`#jobs tbody tr[data-id="${id}"]`, { timeout: 30000 });
    await dash.waitForFunction((id) => {
      const row = document.querySelector(`#jobs tbody tr[data-id="${id}"] .badge`);
      return row && row.textContent === "succeeded";
    }, id, { timeout: 90000 });
    seen.dashboard_rows_after = await dash.locator("#jobs tbody tr").count();
    await dash.screenshot({ path: path.join(shots, "dashboard.png"), fullPage: true });

    // The job page reloads itself when the log ends: final state, artifacts, whole log.
    await page.waitForSelector("table.artifacts", { timeout: 30000 });
    seen.final_badge = await page.locator("p.summary .badge").textContent();
    seen.final_log = await page.locator("pre#log").textContent();
    await page.screenshot({ path: path.join(shots, "job-done.png"), fullPage: true });

    // A phone-sized dashboard.
    const phone = await ctx.newPage();
    await phone.setViewportSize({ width: 390, height: 780 });
    await phone.goto(base + "/");
    await phone.screenshot({ path: path.join(shots, "dashboard-phone.png"), fullPage: true });
    seen.phone_overflow = await phone.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(JSON.stringify(seen));
})().catch((e) => {
  console.error(e && e.stack || String(e));
  process.exit(1);
});
