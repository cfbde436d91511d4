// The REST client of the app: same-origin fetch with the session cookie, the CSRF token on
// every mutation, the gateway's error model as ApiError, and a signed-out session sends the
// browser back to the sign-in page.

const CSRF_COOKIE = "flow_csrf";

export class ApiError extends Error {
  constructor(status, reason, message, details) {
    super(message);
    this.status = status;
    this.reason = reason;
    this.details = details || {};
  }
}

function csrfToken() {
  for (const part of document.cookie.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === CSRF_COOKIE) return decodeURIComponent(rest.join("="));
  }
  return "";
}

function sessionEnded() {
  window.location.assign("/login?expired=1");
}

/** "/dags/{dag_id}" parts are encoded one by one: ids may hold any character. */
export function path(strings, ...values) {
  return strings.reduce((out, str, i) =>
    out + str + (i < values.length ? encodeURIComponent(values[i]) : ""), "");
}

export async function call(method, url, body, query) {
  const target = new URL("/api/v1" + url, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") target.searchParams.set(key, value);
  }
  const headers = {"Accept": "application/json"};
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(target, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (response.status === 401) {
    sessionEnded();
    throw new ApiError(401, "SESSION_ENDED", "Your session has ended; sign in again.");
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(response.status, error.reason || `HTTP_${response.status}`,
      error.message || response.statusText, error.details);
  }
  return data;
}

export const get = (url, query) => call("GET", url, undefined, query);
export const post = (url, body) => call("POST", url, body ?? {});
export const patch = (url, body, query) => call("PATCH", url, body ?? {}, query);
export const del = (url) => call("DELETE", url);

/** Every item of a paginated list (`key` names the array), at most `limit` items. */
export async function getAll(url, key, query, limit = 100000) {
  const items = [];
  let token = "";
  do {
    const page = await get(url, {...query, page_size: 1000, page_token: token});
    items.push(...(page[key] || []));
    token = page.next_page_token || "";
  } while (token && items.length < limit);
  return items;
}

/** Sign out: end the session on the server, then go to the sign-in page. */
export async function logout() {
  await fetch("/logout", {method: "POST", credentials: "same-origin",
    headers: {"X-CSRF-Token": csrfToken()}, redirect: "manual"});
  window.location.assign("/login");
}

/**
 * Server-sent events from `url` (under /api/v1): calls handlers[event](data) for each.
 * EventSource reconnects by itself; a stream that the server refuses (session ended) sends
 * the browser to the sign-in page. Returns a function that closes the stream.
 */
export function stream(url, query, handlers) {
  const target = new URL("/api/v1" + url, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") target.searchParams.set(key, value);
  }
  const source = new EventSource(target, {withCredentials: true});
  for (const [event, handler] of Object.entries(handlers)) {
    if (event === "open") { source.onopen = handler; continue; }
    source.addEventListener(event, (message) => {
      let data = null;
      try { data = message.data ? JSON.parse(message.data) : null; } catch { data = null; }
      handler(data);
    });
  }
  source.onerror = async () => {
    if (source.readyState !== EventSource.CLOSED) return;
    try { await get("/whoami"); } catch { /* a 401 already went to the sign-in page */ }
    if (handlers.closed) handlers.closed();
  };
  return () => source.close();
}
