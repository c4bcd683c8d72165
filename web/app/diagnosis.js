// The administrator's "Connection problems" card: the failures clients reported and the
// scoping verdict (GET /api/admin/diagnose, the same as `deskshare admin diagnose`).

import { api } from "./api.js";

/** @param {string} tag @param {string} text @param {string} [className] */
function node(tag, text, className) {
  const n = document.createElement(tag);
  n.textContent = text;
  if (className) n.className = className;
  return n;
}

/** @param {number} n @param {string} one @param {string} many */
const count = (n, one, many) => `${n} ${n === 1 ? one : many}`;

/**
 * Renders a diagnosis into `box`.
 * @param {HTMLElement} box @param {any} d the Diagnosis
 */
export function renderDiagnosis(box, d) {
  box.replaceChildren();
  if (!d.spread.reports) {
    box.append(node("p", "No failures were reported in this time.", "diagnosis-none"));
    return;
  }
  const s = d.spread;
  box.append(node("p", `${count(s.reports, "report", "reports")} from ${count(s.people, "person", "people")} on ${count(s.computers, "computer", "computers")}.`));
  const v = d.verdict;
  if (v) {
    const verdict = document.createElement("div");
    verdict.className = "verdict";
    verdict.dataset.layer = v.layer;
    verdict.append(node("p", `Likely layer: ${v.layer.replace(/-/g, " ")}`, "verdict-layer"), node("p", v.summary), node("p", `Next: ${v.next}`));
    const evidence = document.createElement("ul");
    for (const e of v.evidence) evidence.append(node("li", e));
    verdict.append(evidence);
    box.append(verdict);
  }
  const table = document.createElement("table");
  table.className = "diagnosis-groups";
  const head = document.createElement("tr");
  for (const h of ["Failure", "Where", "Reports", "People", "Computers", "Inside", "Outside", "Likely layer"]) head.append(node("th", h));
  table.append(head);
  for (const g of d.groups) {
    const row = document.createElement("tr");
    row.dataset.code = g.code;
    for (const cell of [g.code, g.hop, g.spread.reports, g.spread.people, g.spread.computers, g.spread.inside, g.spread.outside, g.verdict.layer.replace(/-/g, " ")]) {
      row.append(node("td", String(cell)));
    }
    table.append(row);
  }
  box.append(table);
}

/** Shows the card and keeps it filled for the chosen window. */
export function startDiagnosis() {
  const card = /** @type {HTMLElement} */ (document.getElementById("diagnosis-card"));
  const box = /** @type {HTMLElement} */ (document.getElementById("diagnosis"));
  const since = /** @type {HTMLSelectElement} */ (document.getElementById("diagnosis-since"));
  card.hidden = false;
  const load = async () => {
    try {
      renderDiagnosis(box, await api("GET", `/api/admin/diagnose?since=${encodeURIComponent(since.value)}`));
    } catch (e) {
      const err = /** @type {any} */ (e);
      box.replaceChildren(node("p", `Could not load the reports: ${err.message || err.code}`, "error"));
    }
  };
  since.addEventListener("change", load);
  load();
}
