// Home page: join with a link, sign in, create a meeting (title, lobby, passcode and the
// policies the organiser may set), and the organiser's meetings with copyable links.

import { loadErrorTable, describe } from "./errors.js";
import { api } from "./api.js";
import { el } from "./dom.js";
import { startDiagnosis } from "./diagnosis.js";
import { flushReports } from "./report.js";
import { copyable } from "./copyable.js";

/** The policies an organiser sets per meeting, as the form shows them. */
const POLICY_BOXES = [
  ["allow-anonymous", "Guests (people without an account) may join"],
  ["allow-control", "Participants may ask for control"],
  ["allow-external-control", "Guests may be given control"],
  ["enable-desktop-sharing", "Presenters may share a whole screen"],
  ["enable-program-sharing", "Presenters may share a single program"],
];

/** Shows a coded error at the top of the page. @param {any} err */
function showError(err) {
  const box = el("home-error");
  box.textContent = describe(err.code, err.message);
  box.hidden = false;
}

/** Where to go after signing in: only a path on this server. */
function nextPath() {
  const next = new URLSearchParams(location.search).get("next") || "";
  return /^\/m\/[0-9a-f]{24}(\?.*)?$/.test(next) ? next : null;
}

async function showSignedIn(/** @type {any} */ me) {
  el("whoami").textContent = `Signed in as ${me.display_name}`;
  el("sign-out").hidden = false;
  el("sign-in-card").hidden = true;
  el("create-card").hidden = false;
  el("meetings-card").hidden = false;
  if (me.admin) startDiagnosis();
  const limits = await api("GET", "/api/me/policies");
  const box = el("create-policies");
  box.replaceChildren(box.querySelector("legend") ?? "");
  for (const [name, label] of POLICY_BOXES) {
    const p = document.createElement("p");
    p.className = "check";
    const input = document.createElement("input");
    input.type = "checkbox";
    input.id = `policy-${name}`;
    input.name = name;
    // The default too, so the form's reset after creating a meeting restores it.
    input.checked = input.defaultChecked = limits[name] === "on";
    // An organiser may tighten a policy, never loosen it past their own.
    input.disabled = limits[name] !== "on";
    const l = document.createElement("label");
    l.htmlFor = input.id;
    l.textContent = input.disabled ? `${label} (turned off by your administrator)` : label;
    p.append(input, l);
    box.append(p);
  }
  // Capacity: up to the organiser's own limit.
  const most = document.createElement("p");
  most.className = "field";
  const mostInput = document.createElement("input");
  mostInput.type = "number";
  mostInput.id = "policy-max-participants";
  mostInput.min = "1";
  mostInput.max = limits["max-participants"];
  mostInput.value = mostInput.defaultValue = limits["max-participants"];
  const mostLabel = document.createElement("label");
  mostLabel.htmlFor = mostInput.id;
  mostLabel.textContent = `Most participants (up to ${limits["max-participants"]})`;
  most.append(mostLabel, mostInput);
  box.append(most);
  await listMeetings();
}

async function listMeetings() {
  const list = el("meetings");
  const meetings = await api("GET", "/api/meetings");
  list.replaceChildren();
  if (!meetings.length) {
    const li = document.createElement("li");
    li.className = "muted";
    li.textContent = "No meetings yet.";
    list.append(li);
  }
  for (const m of meetings) {
    const li = document.createElement("li");
    li.className = "meeting-item";
    const h = document.createElement("h3");
    const a = document.createElement("a");
    a.href = new URL(m.join_url).pathname;
    a.textContent = m.title;
    h.append(a);
    const facts = document.createElement("p");
    facts.className = "muted";
    const bits = [`created ${new Date(m.created_at * 1000).toLocaleString()}`];
    if (m.has_passcode) bits.push("passcode");
    if (m.lobby !== "off") bits.push(`lobby: ${m.lobby}`);
    if (m.expires_at) bits.push(`expires ${new Date(m.expires_at * 1000).toLocaleString()}`);
    facts.textContent = bits.join(" · ");
    const del = document.createElement("button");
    del.type = "button";
    del.className = "danger";
    del.textContent = "Delete";
    del.setAttribute("aria-label", `Delete ${m.title}`);
    del.addEventListener("click", async () => {
      if (!confirm(`Delete “${m.title}”? Everyone in it is disconnected.`)) return;
      await api("DELETE", `/api/meetings/${m.id}`).catch(showError);
      await listMeetings();
    });
    li.append(h, facts, copyable("Join link", m.join_url), presenterLink(m), del);
    list.append(li);
  }
}

/**
 * "Show my presenter link": a link that lets the deskshare app present as you in this
 * meeting (12 hours), and the command that runs it; asked for only when wanted.
 * @param {{id: string, title: string}} m
 */
function presenterLink(m) {
  const box = document.createElement("div");
  box.className = "presenter-link";
  const reveal = document.createElement("button");
  reveal.type = "button";
  reveal.textContent = "Show my presenter link";
  reveal.setAttribute("aria-label", `Show my presenter link for ${m.title}`);
  reveal.addEventListener("click", async () => {
    try {
      const link = await api("POST", `/api/meetings/${m.id}/share-link`);
      const note = document.createElement("p");
      note.className = "muted";
      note.textContent = "Lets the deskshare app present as you in this meeting for 12 hours. Keep it to yourself.";
      box.replaceChildren(copyable("My presenter link", link.link), copyable("Command", link.command), note);
    } catch (e) {
      showError(e);
    }
  });
  box.append(reveal);
  return box;
}

el("join-link").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = /** @type {HTMLInputElement} */ (el("join-link-url")).value.trim();
  const id = text.match(/([0-9a-f]{24})/)?.[1];
  if (!id) return showError({ code: "URL_INVALID", message: "that is not a meeting link" });
  location.href = `/m/${id}`;
});

el("sign-in").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = /** @type {HTMLFormElement} */ (ev.target);
  const data = new FormData(form);
  try {
    const res = await api("POST", "/api/login", { name: data.get("name"), password: data.get("password") });
    el("home-error").hidden = true;
    const next = nextPath();
    if (next) location.href = next;
    else await showSignedIn(res.user);
  } catch (e) {
    showError(e);
  }
});

el("sign-out").addEventListener("click", async () => {
  await api("POST", "/api/logout").catch(() => {});
  location.reload();
});

el("create").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = /** @type {HTMLFormElement} */ (ev.target);
  const data = new FormData(form);
  /** @type {Record<string, string>} */
  const policies = {};
  for (const [name] of POLICY_BOXES) {
    const box = /** @type {HTMLInputElement} */ (el(`policy-${name}`));
    if (!box.disabled && !box.checked) policies[name] = "off";
  }
  const most = /** @type {HTMLInputElement} */ (el("policy-max-participants"));
  if (most.value && most.value !== most.max) policies["max-participants"] = most.value;
  const body = {
    title: String(data.get("title") || "").trim() || undefined,
    lobby: String(data.get("lobby")),
    passcode: String(data.get("passcode") || "") || undefined,
    policies: Object.keys(policies).length ? policies : undefined,
  };
  try {
    const m = await api("POST", "/api/meetings", body);
    const created = el("created");
    created.replaceChildren();
    const p = document.createElement("p");
    p.textContent = `Created “${m.title}”. Send the join link to participants. To present, open the meeting: Share my desktop shares this computer with the deskshare app (others can be given control), Present shares from the browser (view-only). The presenter link lets someone else present; keep it private.`;
    const open = document.createElement("a");
    open.href = new URL(m.join_url).pathname;
    open.textContent = "Open the meeting";
    created.append(p, copyable("Join link", m.join_url), copyable("Presenter link", m.presenter_url));
    // The passcode is kept only as a hash: this is the one moment an invite can carry it.
    if (body.passcode) {
      const invite = `Join “${m.title}” on deskshare: ${m.join_url} (passcode: ${body.passcode})`;
      created.append(copyable("Invite with the passcode", invite));
    }
    created.append(open);
    created.hidden = false;
    // In view and announced, wherever the form was scrolled to (at 1366×768 it is below
    // the fold otherwise).
    created.scrollIntoView({ block: "center" });
    created.focus();
    form.reset();
    await listMeetings();
  } catch (e) {
    showError(e);
  }
});

async function start() {
  await loadErrorTable();
  flushReports();
  try {
    const me = await api("GET", "/api/me");
    if (me.admin_token) throw { code: "UNAUTHORIZED" };
    await showSignedIn(me);
  } catch (e) {
    const err = /** @type {any} */ (e);
    if (err.code !== "UNAUTHORIZED") showError(err);
    el("sign-in-card").hidden = false;
    el("whoami").textContent = "Not signed in";
  }
}

start();
