// Calling the four services from a page with the signed-in person's bearer token
// (/pages/api.js), as docs/http.md's conventions ask of every client:
//
// - errors are problem+json: an ApiError keeps the problem (its `errors` name the fields);
// - each submission carries an Idempotency-Key (forms.js keeps one per submission, so a double
//   click or a retry after a lost answer stores once);
// - an edit sends If-Match with the version the page showed; a 412 means someone else changed
//   the record (forms.js offers to reload);
// - a 404 with Retry-After (an upstream fact not arrived yet: docs/http.md, "not-arrived") is
//   retried quietly, with the same key, while listeners show a "waiting" state; after
//   WAIT_BUDGET_MS it is answered as the 404 it is.

export const SERVICES = ["enrollment", "training", "assessment", "compensation"];
export const DEFAULT_PORTS = { enrollment: 8001, training: 8002, assessment: 8003, compensation: 8004 };
const URLS_STORE = "gradeline.urls";
export const WAIT_BUDGET_MS = 30_000;
const LONGEST_WAIT_MS = 5_000;

// The services' URLs the deployment names (GET /auth/config's api_urls, GRADELINE_PAGES_API_URL:
// "/api/training" behind the Ingress, resolved against this page's origin); null when it names
// none.
export function configuredUrls(config) {
  const named = config?.api_urls;
  if (!named) return null;
  return Object.fromEntries(SERVICES.map((s) => [s, new URL(named[s], location.origin).href.replace(/\/+$/, "")]));
}

// Where the deployment's other page is (the workbench's "/app/", the dashboard's "/dashboard"):
// on this page's origin when the deployment names the services' URLs (one host, the Ingress),
// else on the service that serves it.
export function pageUrl(path, service, urls, config) {
  const base = configuredUrls(config) ? location.origin : urls[service].replace(/\/+$/, "");
  return `${base}${path}`;
}

// The services' URLs: those the deployment names (config, from GET /auth/config), else each
// service's port on the page's own host, ports as the service that served the page implies (its
// port offset).
export function defaultUrls(servedBy, config = null) {
  const configured = configuredUrls(config);
  if (configured) return configured;
  const served = Number(location.port);
  const offset = location.protocol.startsWith("http") && served ? served - DEFAULT_PORTS[servedBy] : 0;
  const host = location.hostname || "127.0.0.1";
  const scheme = location.protocol === "https:" ? "https:" : "http:";
  return Object.fromEntries(SERVICES.map((s) => [s, `${scheme}//${host}:${DEFAULT_PORTS[s] + offset}`]));
}

// ?<service>=URL on the address, else what this tab chose before, else the defaults (config:
// what GET /auth/config answered).
export function readUrls(servedBy, query = new URLSearchParams(location.search), config = null) {
  let stored = {};
  try {
    stored = JSON.parse(sessionStorage.getItem(URLS_STORE) || "{}");
  } catch {
    stored = {};
  }
  const defaults = defaultUrls(servedBy, config);
  const urls = Object.fromEntries(SERVICES.map((s) => [s, query.get(s) || stored[s] || defaults[s]]));
  saveUrls(urls);
  return urls;
}

export function saveUrls(urls) {
  sessionStorage.setItem(URLS_STORE, JSON.stringify(urls));
}

// A new Idempotency-Key: 128 random bits (getRandomValues works on plain-http intranet pages,
// where crypto.randomUUID does not).
export function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `page-${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export class ApiError extends Error {
  constructor(service, url, status, detail, problem = null) {
    super(detail || `HTTP ${status}`);
    this.service = service;
    this.url = url;
    this.status = status; // 0: the request never got an answer
    this.detail = detail;
    this.problem = problem; // the problem+json body, when there was one
    this.waited = false; // a 404 that stayed a 404 after waiting out its Retry-After
  }

  // The problem's field-level errors: [{field, message, row?, rule?}].
  get errors() {
    return Array.isArray(this.problem?.errors) ? this.problem.errors : [];
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function retryDelay(response, problem) {
  // Seconds (or an HTTP date) in Retry-After; a not-arrived problem without the header (a
  // proxy that hid it) is retried after a second.
  const header = response.headers.get("Retry-After");
  if (header) {
    const seconds = Number(header);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
    return Math.min(Math.max(ms, 200), LONGEST_WAIT_MS);
  }
  return String(problem?.type ?? "").endsWith("/not-arrived") ? 1000 : null;
}

// An ETag "7" as the number 7 (null without one).
export function versionOf(response) {
  const match = /^(?:W\/)?"(\d+)"$/.exec(response.headers.get("ETag") ?? "");
  return match ? Number(match[1]) : null;
}

export class ApiClient {
  constructor(session, urls) {
    this.session = session; // signin.js: the bearer token, and the offer to sign in again
    this.urls = urls; // service -> base URL
    this.waitListeners = new Set();
  }

  // listener({service, path, waiting}): a 404 with Retry-After is being waited out (true), or
  // the wait is over (false).
  onWaiting(listener) {
    this.waitListeners.add(listener);
    return () => this.waitListeners.delete(listener);
  }

  notifyWaiting(service, path, waiting) {
    for (const listener of this.waitListeners) listener({ service, path, waiting });
  }

  // {data, version, replayed, status, location}; ApiError otherwise. ``body``: JSON-encoded,
  // unless a ``contentType`` says it is sent as it is (a file). ``key``: the Idempotency-Key;
  // ``ifMatch``: the version the edit was decided on.
  async request(service, path, { method = "GET", body, key, ifMatch, contentType } = {}) {
    const base = this.urls[service].replace(/\/+$/, "");
    const headers = { Accept: "application/json, application/problem+json" };
    const token = await this.session.accessToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (key) headers["Idempotency-Key"] = key;
    if (ifMatch !== undefined && ifMatch !== null) headers["If-Match"] = `"${ifMatch}"`;
    let payload;
    if (body !== undefined) {
      headers["Content-Type"] = contentType ?? "application/json";
      payload = contentType ? body : JSON.stringify(body);
    }
    const started = Date.now();
    let waiting = false;
    try {
      for (;;) {
        const response = await this.send(service, base, path, { method, headers, body: payload });
        if (response.ok) return await this.answer(response);
        const problem = await response.json().catch(() => null);
        const delay = response.status === 404 ? retryDelay(response, problem) : null;
        if (delay !== null && Date.now() - started + delay <= WAIT_BUDGET_MS) {
          if (!waiting) this.notifyWaiting(service, path, (waiting = true));
          await sleep(delay);
          continue;
        }
        const detail = problem?.detail || problem?.title || response.statusText;
        const error = new ApiError(service, base, response.status, detail, problem);
        error.waited = waiting;
        if (response.status === 401) this.session.refused?.(service);
        throw error;
      }
    } finally {
      if (waiting) this.notifyWaiting(service, path, false);
    }
  }

  async send(service, base, path, init) {
    try {
      return await fetch(base + path, { ...init, cache: "no-store" });
    } catch (error) {
      throw new ApiError(service, base, 0, String(error));
    }
  }

  async answer(response) {
    const text = await response.text();
    return {
      data: text ? JSON.parse(text) : null,
      version: versionOf(response),
      replayed: response.headers.get("Idempotent-Replayed") === "true",
      status: response.status,
      location: response.headers.get("Location"),
    };
  }

  // The JSON a GET answers.
  async get(service, path) {
    return (await this.request(service, path)).data;
  }
}

// The file at ``path`` on ``service`` (its base URL ``base``), fetched with the person's token
// and handed to the browser as a download named ``name``; an ApiError when the service refuses
// it or cannot be reached. For the exports (payslips, boards, a person's data).
export async function downloadFile(session, service, base, path, name) {
  const root = base.replace(/\/+$/, "");
  const token = await session.accessToken();
  let response;
  try {
    response = await fetch(root + path, { headers: token ? { Authorization: `Bearer ${token}` } : {}, cache: "no-store" });
  } catch (error) {
    throw new ApiError(service, root, 0, String(error));
  }
  if (!response.ok) {
    const problem = await response.json().catch(() => null);
    throw new ApiError(service, root, response.status, problem?.detail || response.statusText, problem);
  }
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  Object.assign(link, { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
