// The meeting page's state machine: what the connection, the presenter and this page's
// own share are doing, changed only by `reduce(state, event)` and shown only through
// `describe(state)`. Pure (no DOM), so the rules are tested in Node and main.js only
// dispatches events and paints what `describe` says.

/**
 * Where the page is in a meeting.
 * - `preparing`: reading the meeting and who we are.
 * - `choosing`: the join form is shown (a name, a passcode, or guest instead of sign-in).
 * - `joining`: the WebSocket is opening.
 * - `lobby`: joined, waiting to be admitted.
 * - `live`: welcomed; the screen is what the presenter shares.
 * - `reconnecting`: the connection dropped; the last picture stays, marked as stale.
 * - `failed`: a coded failure ended the session (only a new join leaves it).
 * - `ended`: the session ended normally — the meeting ended, the organiser removed or
 *   did not let in this person, or they left — which is not an error.
 * @typedef {"preparing"|"choosing"|"joining"|"lobby"|"live"|"reconnecting"|"failed"|"ended"} Phase
 */

/**
 * @typedef {object} PageState
 * @property {Phase} phase
 * @property {{participant: number, key: string} | null} identity this connection's number and presenting key, while welcomed
 * @property {boolean} presenterOnline someone presents in the meeting
 * @property {boolean} hasPicture a picture has been drawn since the page opened
 * @property {boolean} selfPresenting this page shares its own screen
 * @property {boolean} appPresenting this page's person presents with the deskshare app
 * @property {boolean} mayPresent this page's person may present (organiser or presenter)
 * @property {boolean} showOwn show the picture of one's own screen anyway (it is hidden
 *   while presenting with the app: a page on the shared screen would show itself over
 *   and over, each picture a new change to send)
 * @property {number} attempt the reconnect attempt, while reconnecting
 * @property {{code: string, message: string} | null} unreachable why no connection opens, while reconnecting, once known
 * @property {{code: string, message: string} | null} failure what ended the session
 */

/**
 * @typedef {{type: "choose"}
 *   | {type: "join"}
 *   | {type: "welcome", participant: number, key: string, presenterOnline: boolean}
 *   | {type: "lobby"}
 *   | {type: "presenter", online: boolean}
 *   | {type: "picture"}
 *   | {type: "self-presenting", on: boolean}
 *   | {type: "me", appPresenting: boolean, mayPresent: boolean}
 *   | {type: "show-own"}
 *   | {type: "reconnecting", attempt: number, reason?: {code: string, message: string} | null}
 *   | {type: "failed", code: string, message: string}
 *   | {type: "left"}} PageEvent
 */

/** @returns {PageState} */
export function initial() {
  return {
    phase: "preparing",
    identity: null,
    presenterOnline: false,
    hasPicture: false,
    selfPresenting: false,
    appPresenting: false,
    mayPresent: false,
    showOwn: false,
    attempt: 0,
    unreachable: null,
    failure: null,
  };
}

/**
 * The state after `event`. A failure is final until the person joins again: a late
 * reconnect, lobby or welcome message from the old connection does not undo it.
 * @param {PageState} state @param {PageEvent} event @returns {PageState}
 */
export function reduce(state, event) {
  const failed = state.phase === "failed" || state.phase === "ended";
  switch (event.type) {
    case "choose":
      return { ...state, phase: "choosing", identity: null };
    case "join":
      return { ...state, phase: "joining", identity: null, failure: null, attempt: 0 };
    case "welcome":
      if (failed) return state;
      return {
        ...state,
        phase: "live",
        identity: { participant: event.participant, key: event.key },
        presenterOnline: event.presenterOnline,
        attempt: 0,
        unreachable: null,
      };
    case "lobby":
      return failed ? state : { ...state, phase: "lobby", identity: null };
    // These come often (a picture with every frame): unchanged, the state stays the same
    // object, so the page is not painted again.
    case "presenter":
      return state.presenterOnline === event.online ? state : { ...state, presenterOnline: event.online };
    case "picture":
      return state.hasPicture ? state : { ...state, hasPicture: true };
    case "self-presenting":
      return state.selfPresenting === event.on ? state : { ...state, selfPresenting: event.on };
    case "me":
      return state.appPresenting === event.appPresenting && state.mayPresent === event.mayPresent
        ? state
        : { ...state, appPresenting: event.appPresenting, mayPresent: event.mayPresent, showOwn: false };
    case "show-own":
      return { ...state, showOwn: true };
    case "reconnecting":
      if (failed) return state;
      return { ...state, phase: "reconnecting", identity: null, attempt: event.attempt, unreachable: event.reason || null };
    case "failed": {
      const phase = NORMAL_ENDS[event.code] ? "ended" : "failed";
      return { ...state, phase, identity: null, failure: { code: event.code, message: event.message } };
    }
    case "left":
      return { ...state, phase: "ended", identity: null, failure: { code: "LEFT", message: "" } };
  }
}

/** Ends that are not failures, in words for the person; the code stays in small print. */
const NORMAL_ENDS = /** @type {Record<string, {title: string, detail: string}>} */ ({
  MEETING_ENDED: { title: "The meeting has ended", detail: "Thank you for joining." },
  REMOVED_BY_ORGANISER: { title: "You were removed from the meeting", detail: "The organiser removed you." },
  LOBBY_DENIED: { title: "You were not let in", detail: "An organiser declined your request to join." },
  LEFT: { title: "You left the meeting", detail: "You can join again with the same link." },
  // A link that leads nowhere is not an error of the person who clicked it either.
  MEETING_NOT_FOUND: {
    title: "This meeting link does not work",
    detail: "There is no meeting at this link: it may have been deleted, or only part of the link was copied. Ask the organiser to send the link again.",
  },
  MEETING_EXPIRED: {
    title: "This meeting has expired",
    detail: "Its time is over. Ask the organiser for a new meeting.",
  },
});

/** Ends after which joining again with the same link cannot help. */
const NO_REJOIN = new Set(["MEETING_ENDED", "MEETING_NOT_FOUND", "MEETING_EXPIRED"]);

/**
 * What the page shows for a state: the overlay over the screen (`null`: the screen
 * itself), the status line, or, for a failure, the coded error.
 * @typedef {{overlay: {title: string, detail?: string, code?: string, actions?: ("home"|"rejoin"|"show-own")[]} | null,
 *   status: {text: string, level: "ok"|"warn"|"error"},
 *   error: {code: string, message: string} | null}} Presentation
 */

/** @param {PageState} state @returns {Presentation} */
export function describe(state) {
  /** @type {(title: string | null, detail: string | undefined, text: string, level?: "ok"|"warn") => Presentation} */
  const show = (title, detail, text, level = "warn") => ({
    overlay: title === null ? null : { title, detail },
    status: { text, level },
    error: null,
  });
  switch (state.phase) {
    case "preparing":
      return show("Connecting…", undefined, "Connecting…");
    case "choosing":
      return show(null, undefined, "Not joined yet");
    case "joining":
      return show("Joining…", undefined, "Connecting…");
    case "lobby":
      return show("Waiting in the lobby", "An organiser or presenter will let you in.", "In the lobby");
    case "reconnecting": {
      const stale = state.hasPicture ? " The picture below is from before, not live." : "";
      const why = state.unreachable
        ? `Cannot reach the server: ${state.unreachable.message} (${state.unreachable.code}). Still trying; "Test my connection" (/check) says which step fails.`
        : "The connection to the server dropped; trying again.";
      return show("Reconnecting…", why + stale, `Reconnecting (attempt ${state.attempt})…`);
    }
    case "failed": {
      const failure = state.failure || { code: "SERVER_ERROR", message: "" };
      return { overlay: null, status: { text: `Error ${failure.code}`, level: "error" }, error: failure };
    }
    case "ended": {
      const code = state.failure?.code || "MEETING_ENDED";
      const words = NORMAL_ENDS[code] || NORMAL_ENDS.MEETING_ENDED;
      /** @type {("home"|"rejoin")[]} */
      const actions = NO_REJOIN.has(code) ? ["home"] : ["rejoin", "home"];
      return {
        overlay: { title: words.title, detail: words.detail, code: code === "LEFT" ? undefined : code, actions },
        status: { text: words.title, level: NO_REJOIN.has(code) && code !== "MEETING_ENDED" ? "warn" : "ok" },
        error: null,
      };
    }
    case "live":
      // The preview stands in for the screen; this page is not sent its own picture.
      if (state.selfPresenting) return show(null, undefined, "Connected", "ok");
      // Her own screen, through the app: shown as viewers see it, and said so.
      if (state.appPresenting && state.presenterOnline) {
        if (!state.showOwn) {
          return {
            overlay: {
              title: "You are presenting this computer's screen",
              detail:
                "Everyone in the meeting sees it. The picture is hidden here, so this page does not show itself over and over. Stop sharing ends it (so does Ctrl-C where the app runs in a terminal).",
              actions: ["show-own"],
            },
            status: { text: "You are presenting", level: "ok" },
            error: null,
          };
        }
        return show(state.hasPicture ? null : "Connecting to your screen…", undefined, "You are presenting", "ok");
      }
      if (state.presenterOnline) {
        return show(state.hasPicture ? null : "Connecting to the presenter's screen…", undefined, "Connected", "ok");
      }
      if (state.hasPicture) {
        return show("The presenter has left", "The last picture stays until they share again.", "Presenter left");
      }
      if (state.mayPresent) {
        return show(
          "Nobody is presenting yet",
          "Share my desktop shares this computer's screen with the deskshare app, and others can be given control. Present shares a screen, window or tab from this browser, view-only.",
          "Nobody is presenting",
        );
      }
      return show("Waiting for the presenter to start sharing…", undefined, "Waiting for presenter");
  }
}
