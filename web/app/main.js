// Meeting page entry: wires the session, the render worker and the view together.

import { KIND_FRAME, KIND_CURSOR_SHAPE, KIND_CURSOR_POSITION, parseCursorShape, parseCursorPosition } from "./protocol.js";
import { ViewerSession } from "./session.js";
import { MeetingView } from "./view.js";
import { loadErrorTable, explain } from "./errors.js";
import { ControlPanel } from "./control.js";
import { RosterPanel } from "./roster.js";

const meetingId = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");
const view = new MeetingView();
const worker = new Worker(new URL("./render-worker.js", import.meta.url), { type: "module" });
const offscreen = view.screen.transferControlToOffscreen();
worker.postMessage({ type: "init", canvas: offscreen }, [offscreen]);

/** Viewer statistics, shown in the status bar and readable by tests. */
const stats = { frames: 0, bytes: 0, tiles: 0, skippedTiles: 0, lastFrame: 0, latencyMs: 0 };
let presenterOnline = false;
let fatal = false;

function showPresence() {
  if (fatal) return;
  if (presenterOnline) {
    view.showOverlay(view.hasPicture ? null : "Connecting to the presenter's screen…");
    view.setStatus("Connected", "ok");
  } else if (view.hasPicture) {
    view.showOverlay("The presenter has left", "The last picture stays until they share again.");
    view.setStatus("Presenter left", "warn");
  } else {
    view.showOverlay("Waiting for the presenter to start sharing…");
    view.setStatus("Waiting for presenter", "warn");
  }
}

// A name from the link (`?name=`); otherwise the server uses the signed-in user's name,
// or calls a guest "Guest N".
const displayName = new URLSearchParams(location.search).get("name") || "";
const notice = /** @type {HTMLElement} */ (document.getElementById("notice"));
/** @type {number | undefined} */
let noticeTimer;

/** Shows a coded message for a few seconds, without ending anything. */
function showNotice(/** @type {string} */ code, /** @type {string} */ message) {
  const { cause, remedy } = explain(code);
  notice.textContent = `${cause || message} (${code})${remedy ? ` — ${remedy}` : ""}`;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => (notice.hidden = true), 8000);
}

/** Adds a passcode field under the error, and joins again with what is typed. */
function askPasscode() {
  const form = document.createElement("form");
  form.className = "passcode-form";
  const label = document.createElement("label");
  label.textContent = "Passcode";
  const input = document.createElement("input");
  input.type = "password";
  input.id = "passcode";
  input.autocomplete = "off";
  input.required = true;
  label.htmlFor = "passcode";
  const button = document.createElement("button");
  button.type = "submit";
  button.textContent = "Join";
  form.append(label, input, button);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    session.passcode = input.value;
    fatal = false;
    view.showOverlay("Joining…");
    view.setStatus("Connecting…", "warn");
    session.start();
  });
  view.overlay.append(form);
  input.focus();
}

const session = new ViewerSession(meetingId, displayName, {
  onWelcome(w) {
    view.setTitle(w.title);
    presenterOnline = w.presenter_online;
    control.setMe(w.participant);
    roster.setMe(w.participant);
    control.setPresenterOnline(presenterOnline);
    showPresence();
  },
  onControl(msg) {
    if (msg.type === "presenter") {
      presenterOnline = msg.online;
      control.setPresenterOnline(presenterOnline);
      showPresence();
    } else if (msg.type === "roster") {
      roster.update(msg.participants);
    } else if (msg.type === "control") {
      control.update(msg);
      roster.setController(msg.controller ? msg.controller.participant : null);
      const ended = { hotkey: "CONTROL_REVOKED_HOTKEY", local_input: "CONTROL_REVOKED_LOCAL_INPUT", policy: "CONTROL_DISABLED" }[/** @type {string} */ (msg.ended)];
      if (ended && control.wasMine) showNotice(ended, "");
    } else if (msg.type === "lobby") {
      view.showOverlay("Waiting in the lobby", "An organiser or presenter will let you in.");
      view.setStatus("In the lobby", "warn");
    } else if (msg.type === "refused") {
      control.refused();
      showNotice(msg.code, msg.message);
    }
  },
  onBinary(buf) {
    const kind = new Uint8Array(buf, 0, 1)[0];
    try {
      if (kind === KIND_FRAME) worker.postMessage({ type: "frame", buffer: buf }, [buf]);
      else if (kind === KIND_CURSOR_SHAPE) view.setCursorShape(parseCursorShape(buf));
      else if (kind === KIND_CURSOR_POSITION) view.setCursorPosition(parseCursorPosition(buf));
    } catch (e) {
      const err = /** @type {any} */ (e);
      console.warn("bad message", err.code, err.message);
    }
  },
  onReconnecting(attempt) {
    if (fatal) return;
    view.setStatus(`Reconnecting (attempt ${attempt})…`, "warn");
    view.showOverlay("Reconnecting…", "The connection to the server dropped; trying again.");
  },
  onFatal(code, message) {
    fatal = true;
    view.showError(code, message);
    if (code === "PASSCODE_INVALID") askPasscode();
  },
});

const control = new ControlPanel(
  {
    button: /** @type {HTMLButtonElement} */ (document.getElementById("control")),
    state: /** @type {HTMLElement} */ (document.getElementById("control-state")),
    banner: /** @type {HTMLElement} */ (document.getElementById("control-banner")),
    stage: view.stage,
    surface: view.cursorLayer,
  },
  (msg) => session.send(msg),
);

const roster = new RosterPanel(
  /** @type {HTMLElement} */ (document.getElementById("roster")),
  /** @type {HTMLButtonElement} */ (document.getElementById("end-meeting")),
  (msg) => session.send(msg),
);

worker.onmessage = (ev) => {
  const msg = ev.data;
  if (msg.type === "drawn") {
    session.ack(msg.frame);
    view.setScreenSize(msg.width, msg.height);
    stats.frames += 1;
    stats.bytes += msg.bytes;
    stats.tiles += msg.tiles;
    stats.skippedTiles += msg.skippedTiles;
    stats.lastFrame = msg.frame;
    stats.latencyMs = msg.latencyMs;
    if (!view.hasPicture) {
      view.hasPicture = true;
      showPresence();
    }
  } else if (msg.type === "error") {
    fatal = true;
    view.showError(msg.code, msg.message);
    session.stop();
  } else if (msg.type === "snapshot") {
    pendingSnapshots.get(msg.id)?.(msg);
    pendingSnapshots.delete(msg.id);
  }
};

/** @type {Map<number, (m: any) => void>} */
const pendingSnapshots = new Map();
let snapshotId = 0;

// A small, stable hook for tests and support: statistics and the exact screen pixels.
/** @type {any} */ (window).deskshare = {
  stats,
  /** @returns {Promise<{width: number, height: number, rgba: ArrayBuffer | null}>} */
  snapshot() {
    const id = ++snapshotId;
    return new Promise((resolve) => {
      pendingSnapshots.set(id, resolve);
      worker.postMessage({ type: "snapshot", id });
    });
  },
};

if (!/^[0-9a-f]{24}$/.test(meetingId)) {
  fatal = true;
  loadErrorTable().then(() => view.showError("MEETING_NOT_FOUND", "This link does not contain a meeting id."));
} else {
  view.showOverlay("Connecting…");
  view.setStatus("Connecting…", "warn");
  loadErrorTable().finally(() => session.start());
}
