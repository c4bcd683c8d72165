// The organiser's home page: Create shows its result in view (at 1366×768 the form
// reaches below the fold), and My meetings offers the join link and, behind a button,
// her own presenter link with the command that shares with it. At laptop and phone size.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { addUser, browser, killAll, shot, startServer, until, workdir } from "./harness.js";

after(killAll);

for (const [size, viewport] of [["laptop", { width: 1366, height: 768 }], ["phone", { width: 390, height: 844 }]]) {
  test(`create and my meetings (${size})`, async () => {
    const dir = workdir(`home-${size}`);
    const server = await startServer(dir);
    addUser(server, dir, "olga", "olga-password", "Olga");
    const b = await browser();
    const page = await (await b.newContext({ ignoreHTTPSErrors: true, viewport })).newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(server.url);
    assert.match(await page.locator("#sign-in-card").innerText(), /No account\? Your administrator makes one/);
    await page.fill("#sign-in-name", "olga");
    await page.fill("#sign-in-password", "olga-password");
    await page.click("#sign-in button[type=submit]");
    await until("signed in", async () => (await page.locator("#whoami").innerText()).includes("Olga"));

    await page.fill("#create-title-input", "Quarterly review");
    await page.fill("#create-passcode", "tulip-42");
    await page.locator("#create button[type=submit]").click();
    await until("created", () => page.locator("#created").isVisible());
    await until("the result in view", async () => {
      const box = await page.locator("#created").boundingBox();
      return box !== null && box.y >= 0 && box.y < viewport.height;
    });
    assert.match(await page.locator("#created").innerText(), /Created “Quarterly review”\. Send the join link to participants\./);
    assert.equal(await page.evaluate(() => document.activeElement?.id), "created", "announced: the result has the focus");
    assert.match(
      await page.getByRole("textbox", { name: "Invite with the passcode" }).inputValue(),
      /^Join “Quarterly review” on deskshare: https:\/\/127\.0\.0\.1:\d+\/m\/[0-9a-f]{24} \(passcode: tulip-42\)$/,
    );
    await shot(page, `home-1-created-${size}`);

    const item = page.locator(".meeting-item", { hasText: "Quarterly review" });
    assert.match(await item.locator("input").first().inputValue(), /^https:\/\/127\.0\.0\.1:\d+\/m\/[0-9a-f]{24}$/);
    await item.getByRole("button", { name: "Show my presenter link for Quarterly review" }).click();
    await until("her presenter link", () => item.getByRole("textbox", { name: "My presenter link" }).isVisible());
    assert.match(await item.getByRole("textbox", { name: "My presenter link" }).inputValue(), /\/m\/[0-9a-f]{24}#share=s1\./);
    assert.match(await item.getByRole("textbox", { name: "Command" }).inputValue(), /^deskshare share '.*#share=s1\..*' --ca sha256:[0-9a-f]{64}$/);
    await item.scrollIntoViewIfNeeded();
    await shot(page, `home-2-presenter-link-${size}`);
    assert.deepEqual(errors, []);
    await b.close();
  });
}
