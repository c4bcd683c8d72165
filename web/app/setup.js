// The first-start setup page: makes the first administrator with the one-time code in
// the link's fragment (`/setup#CODE`, printed by `deskshare serve`), then signs them in.

import { api } from "./api.js";
import { el } from "./dom.js";
import { describe, loadErrorTable } from "./errors.js";

const code = location.hash.slice(1);
const form = /** @type {HTMLFormElement} */ (el("setup"));
const errorBox = el("setup-error");

/** @param {string} text */
function showError(text) {
  errorBox.textContent = text;
  errorBox.hidden = false;
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const data = new FormData(form);
  if (data.get("password") !== data.get("again")) {
    showError("The two passwords differ. Type the same password twice.");
    return;
  }
  try {
    await api("POST", "/api/setup", {
      code,
      name: String(data.get("name") || "").trim(),
      password: String(data.get("password") || ""),
      display_name: String(data.get("display_name") || "").trim() || undefined,
    });
    location.href = "/";
  } catch (e) {
    const err = /** @type {any} */ (e);
    showError(describe(err.code, err.message));
  }
});

loadErrorTable().then(() => {
  if (!code) showError(describe("SETUP_LINK_INVALID", "this page needs the setup link the server printed, with its code after #"));
});
