// The REST API from the browser: JSON in and out, and an error answer thrown as its
// `{code, message, remedy}` (docs/ERRORS.md), so every page reports failures the same way.

/**
 * @param {string} method
 * @param {string} path
 * @param {any} [body]
 * @returns {Promise<any>}
 */
export async function api(method, path, body = undefined) {
  const res = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) throw data?.error ?? { code: "SERVER_ERROR", message: `HTTP ${res.status}` };
  return data;
}
