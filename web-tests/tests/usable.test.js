// Usable by everyone: every visible control has a label and is reached with Tab, nothing
// overflows sideways at 1366×768 or on a phone, every request stays on this server, and
// every page comes with the strict Content-Security-Policy.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { addUser, browser, killAll, shot, startServer, until, workdir } from "./harness.js";

after(killAll);

/** Visible controls without an accessible name, described for the failure message. */
function unlabelled(page) {
  return page.evaluate(() => {
    const controls = [...document.querySelectorAll("button, input, select, textarea, a[href], [tabindex]")]
      .filter((e) => /** @type {HTMLElement} */ (e).offsetParent !== null || e === document.activeElement);
    const name = (/** @type {Element} */ e) => {
      const aria = e.getAttribute("aria-label") || "";
      const by = (e.getAttribute("aria-labelledby") || "").split(" ").map((id) => document.getElementById(id)?.textContent || "").join("");
      const labels = "labels" in e ? [.../** @type {any} */ (e).labels || []].map((l) => l.textContent).join("") : "";
      const alt = [...e.querySelectorAll("img[alt]")].map((i) => i.getAttribute("alt")).join("");
      return (aria + by + labels + alt + (e.textContent || "") + (e.getAttribute("title") || "")).trim();
    };
    return controls.filter((e) => !name(e)).map((e) => e.outerHTML.slice(0, 120));
  });
}

/** Tabs through the page; returns the controls that never got focus. */
async function unreachable(page) {
  const ids = await page.evaluate(() => {
    let n = 0;
    const controls = [...document.querySelectorAll("button, input, select, textarea, a[href]")]
      .filter((e) => /** @type {HTMLElement} */ (e).offsetParent !== null && !(/** @type {any} */ (e).disabled));
    for (const e of controls) if (!e.id) e.id = `ctl-${n++}`;
    return controls.map((e) => e.id);
  });
  const seen = new Set();
  await page.locator("body").focus();
  for (let i = 0; i < ids.length * 2 + 5; i++) {
    await page.keyboard.press("Tab");
    seen.add(await page.evaluate(() => document.activeElement?.id || ""));
  }
  return ids.filter((id) => !seen.has(id));
}

const overflowsSideways = (page) =>
  page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1);

test("labels, keyboard reach, layout at 1366×768 and phone size, same-origin only, CSP", async () => {
  const dir = workdir("usable");
  const server = await startServer(dir);
  addUser(server, dir, "olga", "olga-password", "Olga");
  const origin = new URL(server.url).origin;
  const b = await browser();
  const foreign = [];
  const csp = [];

  for (const viewport of [{ width: 1366, height: 768 }, { width: 390, height: 844 }]) {
    const context = await b.newContext({ ignoreHTTPSErrors: true, viewport });
    context.on("request", (r) => {
      if (!r.url().startsWith(origin) && !r.url().startsWith("data:") && !r.url().startsWith("blob:")) foreign.push(r.url());
    });
    context.on("response", (r) => {
      if (r.request().resourceType() === "document") csp.push(r.headers()["content-security-policy"] || "");
    });
    const page = await context.newPage();
    const tag = `${viewport.width}x${viewport.height}`;

    // Home page, signed out, then signed in.
    await page.goto(server.url);
    await until("home page", () => page.getByRole("button", { name: "Sign in" }).isVisible());
    assert.deepEqual(await unlabelled(page), [], `home (${tag})`);
    assert.deepEqual(await unreachable(page), [], `home by keyboard (${tag})`);
    assert.equal(await overflowsSideways(page), false, `home fits (${tag})`);
    // Sign in with the keyboard only.
    await page.getByLabel("Name").focus();
    await page.keyboard.type("olga");
    await page.keyboard.press("Tab");
    await page.keyboard.type("olga-password");
    await page.keyboard.press("Enter");
    await until("signed in", async () => (await page.locator("#whoami").innerText()).includes("Olga"));
    await page.getByLabel("Title").fill(`Meeting at ${tag}`);
    await page.getByRole("button", { name: "Create meeting" }).press("Enter");
    await until("created", async () => (await page.locator("#meetings").innerText()).includes(`Meeting at ${tag}`));
    assert.deepEqual(await unlabelled(page), [], `home signed in (${tag})`);
    assert.deepEqual(await unreachable(page), [], `home signed in by keyboard (${tag})`);
    assert.equal(await overflowsSideways(page), false, `home signed in fits (${tag})`);
    await shot(page, `usable-home-${tag}`);

    // The meeting page as its organiser, with a guest in it.
    const join = await page.locator("#meetings input").first().inputValue();
    const guest = await (await b.newContext({ ignoreHTTPSErrors: true, viewport })).newPage();
    await guest.goto(join);
    await until("join form", () => guest.getByLabel("Your name").isVisible());
    assert.deepEqual(await unlabelled(guest), [], `join form (${tag})`);
    assert.deepEqual(await unreachable(guest), [], `join form by keyboard (${tag})`);
    await guest.getByLabel("Your name").fill("Guest");
    await guest.getByLabel("Your name").press("Enter");
    await page.goto(join);
    await until("guest in roster", async () => (await page.locator("#roster").innerText()).includes("Guest"));
    assert.deepEqual(await unlabelled(page), [], `meeting (${tag})`);
    assert.deepEqual(await unreachable(page), [], `meeting by keyboard (${tag})`);
    assert.equal(await overflowsSideways(page), false, `meeting fits (${tag})`);
    await shot(page, `usable-meeting-${tag}`);
    await context.close();
  }

  assert.deepEqual(foreign, [], "no request leaves the server");
  assert.ok(csp.length >= 4);
  for (const policy of csp) {
    assert.match(policy, /script-src 'self'/);
    assert.match(policy, /frame-ancestors 'none'/);
    assert.doesNotMatch(policy, /unsafe-inline|https?:/);
  }
  await b.close();
});
