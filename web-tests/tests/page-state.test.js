// The meeting page's state machine (web/app/page-state.js), without a browser: each
// event's effect on the state, and what the page shows for it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { initial, reduce, describe } from "../../web/app/page-state.js";

/** @param {import("../../web/app/page-state.js").PageEvent[]} events */
const after = (...events) => events.reduce(reduce, initial());
const welcome = { type: "welcome", participant: 7, key: "k7", presenterOnline: false };

test("a join goes from connecting through joining to waiting for the presenter", () => {
  assert.equal(describe(initial()).overlay?.title, "Connecting…");
  const joining = after({ type: "join" });
  assert.equal(joining.phase, "joining");
  assert.equal(describe(joining).overlay?.title, "Joining…");
  const live = reduce(joining, welcome);
  assert.deepEqual(live.identity, { participant: 7, key: "k7" });
  assert.deepEqual(describe(live), {
    overlay: { title: "Waiting for the presenter to start sharing…", detail: undefined },
    status: { text: "Waiting for presenter", level: "warn" },
    error: null,
  });
});

test("the screen is uncovered once a presenter's picture arrives, and marked when they leave", () => {
  const online = after({ type: "join" }, { ...welcome, presenterOnline: true });
  assert.equal(describe(online).overlay?.title, "Connecting to the presenter's screen…");
  const drawn = reduce(online, { type: "picture" });
  assert.equal(describe(drawn).overlay, null);
  assert.deepEqual(describe(drawn).status, { text: "Connected", level: "ok" });
  const left = reduce(drawn, { type: "presenter", online: false });
  assert.equal(describe(left).overlay?.title, "The presenter has left");
  assert.equal(describe(left).status.text, "Presenter left");
});

test("events that change nothing keep the same state object, so nothing is repainted", () => {
  const drawn = after({ type: "join" }, welcome, { type: "picture" });
  assert.equal(reduce(drawn, { type: "picture" }), drawn);
  assert.equal(reduce(drawn, { type: "presenter", online: false }), drawn);
  assert.equal(reduce(drawn, { type: "self-presenting", on: false }), drawn);
});

test("presenting from this page uncovers the screen for the preview", () => {
  const self = after({ type: "join" }, welcome, { type: "self-presenting", on: true });
  assert.equal(describe(self).overlay, null);
  assert.equal(describe(self).status.text, "Connected");
});

test("a dropped connection says the picture is stale, and forgets the identity until welcomed again", () => {
  const drawn = after({ type: "join" }, { ...welcome, presenterOnline: true }, { type: "picture" });
  const cut = reduce(drawn, { type: "reconnecting", attempt: 3 });
  assert.equal(cut.identity, null);
  const shown = describe(cut);
  assert.equal(shown.overlay?.title, "Reconnecting…");
  assert.match(shown.overlay?.detail || "", /not live/);
  assert.equal(shown.status.text, "Reconnecting (attempt 3)…");
  const back = reduce(cut, { ...welcome, participant: 9, key: "k9", presenterOnline: true });
  assert.equal(back.phase, "live");
  assert.deepEqual(back.identity, { participant: 9, key: "k9" });
  assert.equal(describe(back).overlay, null, "the picture is live again");
});

test("the lobby has its own words", () => {
  const lobby = after({ type: "join" }, { type: "lobby" });
  assert.equal(describe(lobby).overlay?.title, "Waiting in the lobby");
  assert.equal(describe(lobby).status.text, "In the lobby");
});

test("a failure is final: late messages of the old connection do not undo it, a new join does", () => {
  const failed = after({ type: "join" }, welcome, { type: "failed", code: "REMOVED", message: "bye" });
  assert.equal(failed.identity, null);
  assert.deepEqual(describe(failed).error, { code: "REMOVED", message: "bye" });
  assert.equal(describe(failed).status.level, "error");
  for (const late of [{ type: "reconnecting", attempt: 1 }, welcome, { type: "lobby" }]) {
    assert.equal(reduce(failed, /** @type {any} */ (late)).phase, "failed", late.type);
  }
  const again = reduce(failed, { type: "join" });
  assert.equal(again.phase, "joining");
  assert.equal(again.failure, null);
});

test("the join form leaves the screen uncovered and says nobody has joined yet", () => {
  const choosing = after({ type: "choose" });
  assert.equal(describe(choosing).overlay, null);
  assert.equal(describe(choosing).status.text, "Not joined yet");
});

test("a connection that does not open says why, as far as the browser can tell, until it is back", () => {
  const drawn = after({ type: "join" }, { ...welcome, presenterOnline: true }, { type: "picture" });
  const reason = { code: "SERVER_UNREACHABLE", message: "this computer is offline" };
  const waiting = reduce(drawn, { type: "reconnecting", attempt: 4, reason });
  const detail = describe(waiting).overlay?.detail || "";
  assert.match(detail, /Cannot reach the server: this computer is offline \(SERVER_UNREACHABLE\)/);
  assert.match(detail, /Test my connection/);
  assert.match(detail, /not live/, "the stale picture is still marked");
  const back = reduce(waiting, { ...welcome, presenterOnline: true });
  assert.equal(back.unreachable, null, "the reason goes with the outage");
  // A later drop without a known reason does not repeat the old one.
  assert.doesNotMatch(describe(reduce(back, { type: "reconnecting", attempt: 1 })).overlay?.detail || "", /Cannot reach/);
});

test("a normal end is not an error: words, the code in small print, and where to go", () => {
  const live = after({ type: "join" }, { ...welcome, presenterOnline: true });
  const ended = reduce(live, { type: "failed", code: "MEETING_ENDED", message: "" });
  assert.equal(ended.phase, "ended");
  const shown = describe(ended);
  assert.equal(shown.error, null, "not shown as an error");
  assert.equal(shown.overlay?.title, "The meeting has ended");
  assert.equal(shown.overlay?.code, "MEETING_ENDED");
  assert.deepEqual(shown.overlay?.actions, ["home"]);
  assert.equal(shown.status.level, "ok");
  const left = describe(reduce(live, { type: "left" }));
  assert.equal(left.overlay?.title, "You left the meeting");
  assert.deepEqual(left.overlay?.actions, ["rejoin", "home"]);
  assert.equal(left.overlay?.code, undefined, "leaving has no code");
  // It is final like a failure: a late message of the old connection does not undo it.
  assert.equal(reduce(ended, { type: "reconnecting", attempt: 1 }), ended);
  // A real failure stays an error.
  assert.ok(describe(reduce(live, { type: "failed", code: "TILE_CORRUPT", message: "x" })).error);
});

test("an organiser with nobody presenting is offered to present, not told to wait for herself", () => {
  const live = after({ type: "join" }, welcome, { type: "me", appPresenting: false, mayPresent: true });
  assert.equal(describe(live).overlay?.title, "Nobody is presenting yet");
  assert.match(describe(live).overlay?.detail || "", /Share my desktop .* Present /);
  assert.equal(describe(live).status.text, "Nobody is presenting");
  const attendee = after({ type: "join" }, welcome, { type: "me", appPresenting: false, mayPresent: false });
  assert.equal(describe(attendee).overlay?.title, "Waiting for the presenter to start sharing…");
});

test("presenting with the app hides her own picture until she asks for it", () => {
  const mine = after({ type: "join" }, { ...welcome, presenterOnline: true }, { type: "picture" }, { type: "me", appPresenting: true, mayPresent: true });
  assert.equal(describe(mine).overlay?.title, "You are presenting this computer's screen");
  assert.deepEqual(describe(mine).overlay?.actions, ["show-own"]);
  assert.deepEqual(describe(mine).status, { text: "You are presenting", level: "ok" });
  const shown = reduce(mine, { type: "show-own" });
  assert.equal(describe(shown).overlay, null);
  assert.equal(describe(shown).status.text, "You are presenting");
  assert.equal(reduce(shown, { type: "me", appPresenting: true, mayPresent: true }), shown, "the same facts change nothing");
  const stopped = reduce(shown, { type: "me", appPresenting: false, mayPresent: true });
  assert.equal(stopped.showOwn, false, "the choice is for one share");
});

test("a link to no meeting, or an expired one, is said in words with the way home only", () => {
  for (const [code, title] of [["MEETING_NOT_FOUND", "This meeting link does not work"], ["MEETING_EXPIRED", "This meeting has expired"]]) {
    const shown = describe(after({ type: "failed", code, message: "" }));
    assert.equal(shown.overlay?.title, title);
    assert.equal(shown.overlay?.code, code);
    assert.deepEqual(shown.overlay?.actions, ["home"]);
    assert.equal(shown.error, null);
    assert.equal(shown.status.level, "warn", "not an error of the person, not a success either");
  }
});
