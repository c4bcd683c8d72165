// Error codes with cause and remedy, fetched once from the server's own table
// (GET /api/errors), so the browser says exactly what the CLI says.

/** @type {Record<string, {cause: string, remedy: string, hop: string | null}> | null} */
let table = null;

export async function loadErrorTable() {
  try {
    const res = await fetch("/api/errors");
    if (res.ok) table = await res.json();
  } catch {
    // The page can still show codes without the table.
  }
}

/**
 * @param {string} code
 * @returns {{cause: string, remedy: string}}
 */
export function explain(code) {
  return (table && table[code]) || { cause: "", remedy: "" };
}

/** The hop a failure with `code` is reported at, or null when it is not a failure to
 * report (the meeting ended, control was taken back). @param {string} code */
export function hopOf(code) {
  return table && table[code] ? table[code].hop : null;
}

/** One line for a failure: cause (or the message), code, remedy. @param {string} code @param {string} [message] */
export function describe(code, message = "") {
  const { cause, remedy } = explain(code);
  return `${cause || message} (${code})${remedy ? ` — ${remedy}` : ""}`;
}
