// Meeting page entry: wires the session, the render worker and the view together.

import { el } from "./dom.js";
import { KIND_FRAME, KIND_CURSOR_SHAPE, KIND_CURSOR_POSITION, parseCursorShape, parseCursorPosition } from "./protocol.js";
import { ViewerSession } from "./session.js";
import { MeetingView } from "./view.js";
import { loadErrorTable, describe } from "./errors.js";
import { api } from "./api.js";
import { ControlPanel } from "./control.js";
import { RosterPanel } from "./roster.js";
import { ChatPanel } from "./chat.js";
import { JoinForm } from "./join.js";
import { BrowserPresenter } from "./present.js";
import { supportedCodecs } from "./decoders/media.js";
import { WorkerRequests } from "./worker-rpc.js";
import { initial, reduce, describe as describeState } from "./page-state.js";
import { reportFailure, flushReports } from "./report.js";
import { AttentionView } from "./attention.js";
import { ConsentPanel } from "./consent.js";
import { ShareDesktop } from "./share-desktop.js";
import { fitToolbar } from "./toolbar.js";

const meetingId = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");
const view = new MeetingView();
const worker = new Worker(new URL("./render-worker.js", import.meta.url), { type: "module" });
const offscreen = view.screen.transferControlToOffscreen();
worker.postMessage({ type: "init", canvas: offscreen }, [offscreen]);

/** Viewer statistics, shown in the status bar and readable by tests. */
const stats = { frames: 0, bytes: 0, tiles: 0, copies: 0, lossy: 0, video: 0, skippedTiles: 0, lastFrame: 0, latencyMs: 0 };

/** The page's one state; changed only by `dispatch`. */
let state = initial();

/** Applies an event and paints what the new state shows. @param {import("./page-state.js").PageEvent} event */
function dispatch(event) {
  const before = state;
  state = reduce(state, event);
  if (state !== before) paint();
}

function paint() {
  const shown = describeState(state);
  // Over (failed, ended, left): the meeting's buttons go; the overlay says what next.
  document.body.classList.toggle("session-over", state.phase === "failed" || state.phase === "ended");
  // No meeting behind the link: nothing of a meeting to show at all.
  const code = state.failure?.code;
  document.body.classList.toggle("no-meeting", code === "MEETING_NOT_FOUND" || code === "MEETING_EXPIRED");
  view.stage.classList.toggle("own-hidden", state.phase === "live" && state.appPresenting && state.presenterOnline && !state.showOwn);
  if (shown.error) {
    view.showError(shown.error.code, shown.error.message);
    return;
  }
  view.showOverlay(shown.overlay && shown.overlay.title, shown.overlay?.detail, shown.overlay || {});
  view.setStatus(shown.status.text, shown.status.level);
}

// A name from the link (`?name=`); otherwise the server uses the signed-in user's name,
// or calls a guest "Guest N".
const displayName = new URLSearchParams(location.search).get("name") || "";
const notice = /** @type {HTMLElement} */ (el("notice"));
/** @type {number | undefined} */
let noticeTimer;

/** Shows a coded message for a few seconds, without ending anything. */
function showNotice(/** @type {string} */ code, /** @type {string} */ message) {
  notice.textContent = describe(code, message);
  notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => (notice.hidden = true), 8000);
}

/** Says something that is not a failure, for a few seconds. @param {string} text */
function say(text) {
  notice.textContent = text;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => (notice.hidden = true), 5000);
}

// Copy invite: the meeting's title and join link (never a presenter link or passcode).
el("invite").addEventListener("click", async () => {
  const title = el("title").textContent || "a meeting";
  const text = `Join “${title}” on deskshare: ${location.origin}/m/${meetingId}`;
  try {
    await navigator.clipboard.writeText(text);
    say("Invite copied: the meeting's name and join link.");
  } catch {
    say(`Copy this invite: ${text}`);
  }
});

/** Identity failures after which joining as a guest may help. */
const IDENTITY_CODES = new Set(["ACCOUNT_DISABLED", "SESSION_EXPIRED"]);
/** Failures the join form can fix: a passcode, or another identity. */
const ASK_AGAIN = new Set(["PASSCODE_INVALID", "ANONYMOUS_NOT_ALLOWED", ...IDENTITY_CODES]);
/** @type {JoinForm | null} */
let joinForm = null;
/** Attempts without a connection before the outage is kept as a failure report (a
 * restart or a short cut heals before this). */
const REPORT_OUTAGE_AFTER = 6;
/** Whether this outage has been reported. */
let outageReported = false;
/** Whether the chat history of this connection is still to come. */
let historyPending = true;

/** Tells the server's administrators about a failure shown here (not a mistyped
 * passcode: the form asks again). @param {string} code @param {string} message */
function reportShown(code, message) {
  if (code !== "PASSCODE_INVALID") reportFailure({ code, meeting: meetingId, detail: message });
}

const session = new ViewerSession(meetingId, displayName, {
  onWelcome(w) {
    outageReported = false;
    // The first chat message after a welcome is the history: already said, not news.
    historyPending = true;
    flushReports();
    view.setTitle(w.title);
    dispatch({ type: "welcome", participant: w.participant, key: w.key, presenterOnline: w.presenter_online });
    presenter.rejoin();
    chat.setEnabled(true);
    control.setMe(w.participant);
    roster.reset();
    roster.setMe(w.participant);
    consent.reset();
    control.setPresenterOnline(w.presenter_online);
  },
  onControl(msg) {
    if (msg.type === "presenter") {
      dispatch({ type: "presenter", online: msg.online });
      control.setPresenterOnline(msg.online);
    } else if (roster.apply(msg)) {
      updatePresentButton();
      updateMine();
      attention.lobby(roster.waiting());
    } else if (msg.type === "chat") {
      const added = chat.add(msg.messages);
      if (historyPending) historyPending = false;
      else attention.chat(added);
    } else if (msg.type === "control") {
      control.update(msg);
      roster.setFloor(msg.controller ? msg.controller.participant : null, msg.queue.map((/** @type {{participant: number}} */ p) => p.participant));
      controller = msg.controller ? msg.controller.participant : null;
      updateMine();
      const ended = {
        hotkey: "CONTROL_REVOKED_HOTKEY",
        local_input: "CONTROL_REVOKED_LOCAL_INPUT",
        presenter: "CONTROL_REVOKED_PRESENTER",
        policy: "CONTROL_DISABLED",
      }[/** @type {string} */ (msg.ended)];
      if (ended && control.wasMine) showNotice(ended, "");
    } else if (msg.type === "consent_ask") {
      consent.ask(msg);
      attention.alert();
    } else if (msg.type === "consent_done") {
      consent.done(msg);
    } else if (msg.type === "lobby") {
      dispatch({ type: "lobby" });
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
  onReconnecting(attempt, reason) {
    dispatch({ type: "reconnecting", attempt, reason });
    if (reason && attempt >= REPORT_OUTAGE_AFTER && !outageReported) {
      outageReported = true;
      const { code, hop, message } = reason;
      reportFailure({ code, hop, meeting: meetingId, detail: message, reachable: hop !== "tcp" });
    }
  },
  onFatal(code, message) {
    dispatch({ type: "failed", code, message });
    reportShown(code, message);
    chat.setEnabled(false);
    presenter.stop();
    if (joinForm && ASK_AGAIN.has(code)) {
      view.showOverlay(null);
      joinForm.show(code, message);
    }
  },
});

const control = new ControlPanel(
  {
    button: /** @type {HTMLButtonElement} */ (el("control")),
    state: /** @type {HTMLElement} */ (el("control-state")),
    banner: /** @type {HTMLElement} */ (el("control-banner")),
    stage: view.stage,
    surface: view.cursorLayer,
  },
  (msg) => session.send(msg),
);

const consent = new ConsentPanel(
  {
    box: /** @type {HTMLElement} */ (el("consent")),
    text: /** @type {HTMLElement} */ (el("consent-text")),
    allow: /** @type {HTMLButtonElement} */ (el("consent-allow")),
    deny: /** @type {HTMLButtonElement} */ (el("consent-deny")),
    takeBack: /** @type {HTMLButtonElement} */ (el("take-back")),
  },
  (msg) => session.send(msg),
);
/** Who controls the presenter's machine now (participant), if anyone. @type {number | null} */
let controller = null;
/** Whether this page joined signed in (a share link names a signed-in person). */
let signedIn = false;

const roster = new RosterPanel(
  /** @type {HTMLElement} */ (el("roster")),
  /** @type {HTMLButtonElement} */ (el("end-meeting")),
  (msg) => session.send(msg),
);

worker.onmessage = (ev) => {
  const msg = /** @type {import("./protocol.js").FromRenderWorker} */ (ev.data);
  if (msg.type === "drawn") {
    session.ack(msg.frame);
    view.setScreenSize(msg.width, msg.height);
    stats.frames += 1;
    stats.bytes += msg.bytes;
    stats.tiles += msg.tiles;
    stats.copies += msg.copies;
    stats.lossy += msg.lossy;
    stats.video += msg.video;
    stats.skippedTiles += msg.skippedTiles;
    stats.lastFrame = msg.frame;
    stats.latencyMs = msg.latencyMs;
    dispatch({ type: "picture" });
  } else if (msg.type === "error") {
    dispatch({ type: "failed", code: msg.code, message: msg.message });
    reportShown(msg.code, msg.message);
    session.stop();
  } else if (msg.type === "snapshot") {
    requests.settle(msg);
  }
};

const requests = new WorkerRequests();

// A small, stable hook for tests and support: statistics and the exact screen pixels.
/** @type {any} */ (window).deskshare = {
  stats,
  /** @returns {Promise<import("./worker-rpc.js").Snapshot>} */
  snapshot: () => requests.ask(worker, "snapshot"),
};

const chat = new ChatPanel(
  /** @type {HTMLOListElement} */ (el("chat-list")),
  /** @type {HTMLFormElement} */ (el("chat-form")),
  (msg) => session.send(msg),
);

// Presenting from this browser (view-only: a browser cannot hand over mouse and keyboard).
const presentButton = /** @type {HTMLButtonElement} */ (el("present"));
const pauseButton = /** @type {HTMLButtonElement} */ (el("pause"));
const presentBanner = /** @type {HTMLElement} */ (el("present-banner"));
const preview = /** @type {HTMLVideoElement} */ (el("preview"));
let presentViewers = 0;
const presenter = new BrowserPresenter(meetingId, {
  identity: () => state.identity,
  onState(state) {
    const on = state !== "off";
    presentButton.textContent = on ? "Stop presenting" : "Present";
    presentButton.setAttribute("aria-pressed", String(on));
    pauseButton.hidden = !on;
    view.stage.classList.toggle("self-presenting", on);
    preview.hidden = !on;
    preview.srcObject = on ? presenter.stream : null;
    if (on) preview.play().catch(() => {});
    showPresentBanner(state);
    // The role may have changed while presenting (a demotion ends the share).
    updatePresentButton();
    dispatch({ type: "self-presenting", on: presenter.active });
    updateMine();
  },
  onViewers(count) {
    // This page's own viewer connection is one of them.
    presentViewers = Math.max(0, count - 1);
    showPresentBanner("on");
  },
  onError(code, message) {
    showNotice(code, message);
  },
});

/** @param {string} state */
function showPresentBanner(state) {
  presentBanner.hidden = state === "off";
  const what = presenter.share === "program" ? "a window or tab" : "your screen";
  const paused = presenter.paused ? " Paused: viewers see the last picture." : "";
  const lead = state === "reconnecting" ? "Reconnecting…" : state === "starting" ? "Choose what to present…" : `You are presenting ${what} to ${presentViewers} ${presentViewers === 1 ? "viewer" : "viewers"}.`;
  presentBanner.textContent = `${lead}${paused} View-only: a browser cannot give others control of your mouse and keyboard.`;
}

const stopShareButton = /** @type {HTMLButtonElement} */ (el("stop-share"));
stopShareButton.addEventListener("click", () => session.send({ type: "stop_presenting" }));
const shareDesktop = new ShareDesktop(
  {
    button: /** @type {HTMLButtonElement} */ (el("share-desktop")),
    panel: /** @type {HTMLElement} */ (el("share-panel")),
    status: /** @type {HTMLElement} */ (el("share-status")),
    fallback: /** @type {HTMLElement} */ (el("share-fallback")),
    command: /** @type {HTMLElement} */ (el("share-command")),
    download: /** @type {HTMLAnchorElement} */ (el("share-download")),
    retry: /** @type {HTMLButtonElement} */ (el("share-retry")),
    close: /** @type {HTMLButtonElement} */ (el("share-close")),
  },
  meetingId,
  showNotice,
);
view.onShowOwn = () => dispatch({ type: "show-own" });

/** What this page's person is doing, from the roster and the floor: presenting with the
 * app (one line in the roster, "presenting"), may present, may take control back. */
function updateMine() {
  const mine = roster.myLine();
  const role = mine?.role ?? "attendee";
  const appPresenting = Boolean(mine?.presenting) && !presenter.active;
  const mayPresent = role !== "attendee";
  dispatch({ type: "me", appPresenting, mayPresent });
  if (appPresenting) shareDesktop.presenting();
  shareDesktop.setOffered(signedIn && mayPresent && !appPresenting && !presenter.active && state.phase === "live");
  stopShareButton.hidden = !appPresenting;
  // Nobody asks to control their own screen.
  control.setSelfPresenting(presenter.active || appPresenting);
  consent.setTakeBack(controller !== null && (appPresenting || role === "organiser"));
}

function updatePresentButton() {
  const mayPresent = roster.myRole() !== "attendee" && BrowserPresenter.supported();
  presentButton.hidden = !mayPresent && !presenter.active;
}

// Leave: this page's sessions end; the meeting goes on for the others.
el("leave").addEventListener("click", () => {
  presenter.stop();
  session.stop();
  chat.setEnabled(false);
  dispatch({ type: "left" });
});

presentButton.addEventListener("click", () => {
  if (presenter.active) {
    presenter.stop();
    return;
  }
  // One presenter at a time, by choice: someone else's share is replaced only if the
  // person says so here (the server refuses otherwise).
  const current = state.presenterOnline ? roster.presenterName() || "Someone" : null;
  if (current && !confirm(`${current} is presenting. Replace their share with yours?`)) return;
  presenter.start({ replace: Boolean(current) });
});
pauseButton.addEventListener("click", () => {
  presenter.setPaused(!presenter.paused);
  pauseButton.setAttribute("aria-pressed", String(presenter.paused));
  pauseButton.textContent = presenter.paused ? "Resume" : "Pause";
  showPresentBanner("on");
});

// People & chat: a panel that can be folded away (on a phone it sits below the screen).
const side = /** @type {HTMLElement} */ (el("side"));
const sideToggle = /** @type {HTMLButtonElement} */ (el("side-toggle"));
sideToggle.addEventListener("click", () => {
  side.hidden = !side.hidden;
  sideToggle.setAttribute("aria-expanded", String(!side.hidden));
  if (!side.hidden) attention.seen();
});
// On a phone: one row of tools with a More menu, and People & chat as a sheet over the
// screen, folded until asked for.
const phone = window.matchMedia("(max-width: 700px)");
fitToolbar(
  {
    tools: /** @type {HTMLElement} */ (el("meeting-tools")),
    more: /** @type {HTMLButtonElement} */ (el("more")),
    menu: /** @type {HTMLElement} */ (el("more-menu")),
  },
  phone,
);
if (phone.matches) {
  side.hidden = true;
  sideToggle.setAttribute("aria-expanded", "false");
}
const attention = new AttentionView({
  toggle: sideToggle,
  side,
  toast: /** @type {HTMLElement} */ (el("toast")),
  sound: /** @type {HTMLButtonElement} */ (el("sound")),
});

/** GETs from the API: the answer, or the error it gave. */
const attempt = (/** @type {string} */ path) =>
  api("GET", path).then((ok) => ({ ok, error: null }), (error) => ({ ok: null, error }));

/** @param {import("./join.js").JoinChoice} choice */
function join(choice) {
  session.name = choice.name || displayName;
  session.passcode = choice.passcode;
  session.asGuest = choice.asGuest;
  if (choice.asGuest) signedIn = false;
  dispatch({ type: "join" });
  session.start();
}

async function prepare() {
  await loadErrorTable();
  session.video = await supportedCodecs();
  if (!/^[0-9a-f]{24}$/.test(meetingId)) {
    dispatch({ type: "failed", code: "MEETING_NOT_FOUND", message: "This link does not contain a meeting id." });
    return;
  }
  const [info, me] = await Promise.all([attempt(`/api/meetings/${meetingId}`), attempt("/api/me")]);
  signedIn = Boolean(me.ok && me.ok.name && !me.ok.admin_token);
  if (!info.ok) {
    dispatch({ type: "failed", code: info.error.code, message: info.error.message });
    reportShown(info.error.code, info.error.message);
    return;
  }
  flushReports();
  view.setTitle(info.ok.title);
  joinForm = new JoinForm(info.ok, me.ok, displayName, join);
  // A sign-in that no longer works (e.g. a disabled account): say so, and offer to join
  // as a guest where the meeting allows guests.
  const identityFailure = me.error && IDENTITY_CODES.has(me.error.code) ? me.error : null;
  if (!identityFailure && joinForm.canJoinAtOnce(displayName)) join(joinForm.choice());
  else {
    dispatch({ type: "choose" });
    joinForm.show(identityFailure?.code, identityFailure?.message);
  }
}

// A small, stable hook for tests and support.
Object.assign(/** @type {any} */ (window).deskshare, {
  chat: () => chat.texts(),
  presenterSnapshot: () => presenter.snapshot(),
});

paint();
prepare();
