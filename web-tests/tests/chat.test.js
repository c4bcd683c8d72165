// Chat between two browsers, kept with the meeting: still there after a reload.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { browser, killAll, shot, startServer, until, workdir } from "./harness.js";

after(killAll);

const texts = (page) => page.evaluate(() => /** @type {any} */ (window).deskshare.chat());

test("chat between two browsers survives a reload", async () => {
  const dir = workdir("chat");
  const server = await startServer(dir);
  const meeting = server.createMeeting("Chat test");
  const b = await browser();
  const ana = await (await b.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1366, height: 768 } })).newPage();
  const bo = await (await b.newContext({ ignoreHTTPSErrors: true })).newPage();
  await ana.goto(`${meeting.join_url}?name=Ana`);
  await bo.goto(`${meeting.join_url}?name=Bo`);
  for (const p of [ana, bo]) await until("chat enabled", () => p.getByRole("textbox", { name: "Message" }).isEnabled());

  // Typed and sent with Enter; a second line with the Send button.
  await ana.getByRole("textbox", { name: "Message" }).fill("Hello from Ana <b>not bold</b>");
  await ana.getByRole("textbox", { name: "Message" }).press("Enter");
  await until("Bo sees Ana's message", async () => (await texts(bo)).includes("Hello from Ana <b>not bold</b>"));
  await bo.getByRole("textbox", { name: "Message" }).fill("Hi Ana");
  await bo.getByRole("button", { name: "Send" }).click();
  await until("Ana sees Bo's answer", async () => (await texts(ana)).length === 2);
  assert.deepEqual(await texts(ana), ["Hello from Ana <b>not bold</b>", "Hi Ana"]);
  assert.equal(await bo.locator(".chat-text b").count(), 0, "text is shown as text, never as markup");
  assert.match(await bo.locator("#chat-list").innerText(), /Ana \(guest\)/);
  assert.equal(await ana.getByRole("textbox", { name: "Message" }).inputValue(), "", "the field is cleared after sending");
  await shot(ana, "chat-1-two-browsers");

  // A reload starts a new session: the history comes back, once, in order.
  await bo.reload();
  await until("history after reload", async () => (await texts(bo)).length === 2);
  assert.deepEqual(await texts(bo), ["Hello from Ana <b>not bold</b>", "Hi Ana"]);
  await bo.getByRole("textbox", { name: "Message" }).fill("Back again");
  await bo.getByRole("textbox", { name: "Message" }).press("Enter");
  await until("Ana sees the message after Bo's reload", async () => (await texts(ana)).length === 3);
  assert.deepEqual(await texts(ana), ["Hello from Ana <b>not bold</b>", "Hi Ana", "Back again"]);
  await shot(bo, "chat-2-after-reload");

  // The server restarts: both browsers show that they reconnect, come back by themselves,
  // and the history is neither lost nor doubled.
  await server.stop();
  await until("reconnecting shown", async () => (await ana.locator("#status").innerText()).includes("Reconnecting"));
  assert.match(await ana.locator("#overlay").innerText(), /Reconnecting/);
  await shot(ana, "chat-3-reconnecting");
  await startServer(dir, server.listen);
  await until("back in", async () => (await ana.locator("#status").innerText()).includes("Waiting for presenter"), 60000);
  await until("Bo back in", async () => (await bo.locator("#status").innerText()).includes("Waiting for presenter"), 60000);
  assert.deepEqual(await texts(ana), ["Hello from Ana <b>not bold</b>", "Hi Ana", "Back again"]);
  assert.deepEqual(await texts(bo), ["Hello from Ana <b>not bold</b>", "Hi Ana", "Back again"]);
  await b.close();
});
