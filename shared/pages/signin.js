// Signing in to a page of the services (the dashboard, the workbench; /pages/signin.js): OpenID Connect Authorization Code + PKCE against the identity
// provider the service names (GET /auth/config), through oidc-client-ts (vendored, served by
// every service at /docs/assets/oidc-client-ts.min.js, loaded before this module as the global
// `oidc`). The library makes the PKCE verifier and state, handles the callback, renews the access
// token with the refresh token before it expires, and signs out at the provider.
//
// Tokens are kept in sessionStorage: they stay with this tab (not shared with other tabs, gone
// when it closes), so a bearer token does not outlive the visit on a shared office computer, as
// it would in localStorage; the page's CSP (scripts from the service only) is what keeps other
// scripts from reading it. The PKCE verifier and state wait in sessionStorage too: the provider
// redirects back to this same tab.
//
// A pasted developer token (the collapsed "Developer: paste a token" control, or ?token= on the
// address) takes precedence while set: it is the fallback where no provider is configured.

const CALLBACK_PARAMS = [
  "code", "state", "session_state", "iss", "error", "error_description", "error_uri",
];

function claimAt(claims, path) {
  // A claim by dotted path ("realm_access.roles"); a name with a dot in it wins over the path.
  if (!claims || !path) return undefined;
  if (path in claims) return claims[path];
  const step = (node, key) => (node && typeof node === "object" ? node[key] : undefined);
  return path.split(".").reduce(step, claims);
}

export function jwtClaims(token) {
  // The payload of a JWT, for showing who is signed in; never trusted (the services verify).
  const part = String(token || "").split(".")[1];
  if (!part) return null;
  try {
    const base64 = part.replace(/-/g, "+").replace(/_/g, "/")
      .padEnd(Math.ceil(part.length / 4) * 4, "=");
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

function asList(value) {
  if (value === undefined || value === null || value === "") return [];
  return Array.isArray(value) ? value.map(String) : String(value).split(/[\s,]+/).filter(Boolean);
}

export class Session {
  constructor() {
    this.config = null; // {issuer, client_id, audience, scopes, *_claim}; issuer null: no sign-in
    this.manager = null;
    this.user = null;
    this.developerToken = "";
    this.problem = null; // {key, detail}: why sign-in or renewal failed, for the page to say
    this.listeners = new Set();
  }

  onChange(listener) {
    this.listeners.add(listener);
  }

  changed() {
    for (const listener of this.listeners) listener(this);
  }

  get available() {
    return Boolean(this.manager);
  }

  // A user whose token is still good, or can be renewed; null otherwise.
  get usableUser() {
    return this.user && (!this.user.expired || this.user.refresh_token) ? this.user : null;
  }

  hasCredentials() {
    return Boolean(this.developerToken || this.usableUser);
  }

  // Learns the provider from the service, and finishes a sign-in or sign-out the provider has
  // just redirected back from. Restores the address the page had before it left.
  async start(configUrl = "/auth/config") {
    try {
      const answer = await fetch(configUrl, {
        headers: { Accept: "application/json" }, cache: "no-store",
      });
      if (!answer.ok) throw new Error(`${configUrl}: HTTP ${answer.status}`);
      this.config = await answer.json();
    } catch (error) {
      this.config = null;
      this.problem = { key: "err_signin_config", detail: String(error) };
      return;
    }
    if (!this.config.issuer || typeof oidc === "undefined") return;
    const page = `${location.origin}${location.pathname}`;
    const store = new oidc.WebStorageStateStore({
      store: window.sessionStorage, prefix: "gradeline.oidc.",
    });
    this.manager = new oidc.UserManager({
      authority: this.config.issuer,
      client_id: this.config.client_id,
      redirect_uri: page,
      post_logout_redirect_uri: page, // providers match both exactly: the page, no query
      response_type: "code",
      scope: asList(this.config.scopes).join(" ") || "openid profile",
      userStore: store,
      stateStore: store,
      // With the refresh token, a minute before the access token expires.
      automaticSilentRenew: true,
      accessTokenExpiringNotificationTimeInSeconds: 60,
      monitorSession: false, // no provider iframe: the page's CSP allows none
      loadUserInfo: false, // the ID token says who it is
    });
    const events = this.manager.events;
    events.addUserLoaded((user) => { this.user = user; this.problem = null; this.changed(); });
    events.addUserUnloaded(() => { this.user = null; this.changed(); });
    events.addSilentRenewError((error) => {
      this.problem = { key: "err_renew", detail: String(error?.message ?? error) };
      this.changed();
    });
    events.addAccessTokenExpired(() => {
      this.problem ??= { key: "err_expired", detail: "" };
      this.changed();
    });
    await this.finishRedirects();
    this.user = await this.manager.getUser();
  }

  async finishRedirects() {
    const query = new URLSearchParams(location.search);
    if (!query.has("state")) return;
    if (!query.has("code") && !query.has("error")) {
      // Back from signing out at the provider (only the state comes back).
      try {
        await this.manager.signoutRedirectCallback();
      } catch {
        // an old or foreign state: signed out here all the same
      }
      query.delete("state");
      this.replaceQuery(query, location.hash);
      return;
    }
    try {
      const user = await this.manager.signinRedirectCallback();
      const back = user.state ?? {};
      this.replaceQuery(new URLSearchParams(back.search ?? ""), back.hash ?? "");
    } catch (error) {
      const detail = query.get("error_description") || query.get("error");
      this.problem = { key: "err_signin", detail: detail || String(error?.message ?? error) };
      for (const name of CALLBACK_PARAMS) query.delete(name);
      this.replaceQuery(query, location.hash);
    }
  }

  replaceQuery(query, hash) {
    const rest = query.toString();
    history.replaceState(null, "", `${location.pathname}${rest ? `?${rest}` : ""}${hash}`);
  }

  // To the provider's sign-in page; back to this address (query and view) afterwards.
  async signIn() {
    if (!this.manager) return;
    const query = new URLSearchParams(location.search);
    query.delete("token");
    try {
      await this.manager.signinRedirect({ state: { search: query.toString(), hash: location.hash } });
    } catch (error) {
      this.problem = { key: "err_signin", detail: String(error?.message ?? error) };
      this.changed();
    }
  }

  // Forgets the tokens here, then ends the provider's session where it offers an end-session
  // endpoint (it returns to this page); a provider without one: signed out of this tab only.
  async signOut() {
    this.setDeveloperToken("");
    if (!this.manager) {
      this.changed();
      return;
    }
    try {
      await this.manager.signoutRedirect();
    } catch {
      await this.manager.removeUser();
      this.user = null;
      this.problem = null;
      this.changed();
    }
  }

  setDeveloperToken(token) {
    this.developerToken = (token || "").trim();
    if (this.developerToken) sessionStorage.setItem("gradeline.token", this.developerToken);
    else sessionStorage.removeItem("gradeline.token");
  }

  // The bearer token for the next API call: the developer's, else the signed-in user's (renewed
  // first when it has just expired and a refresh token is at hand), else "".
  async accessToken() {
    if (this.developerToken) return this.developerToken;
    if (!this.manager || !this.user) return "";
    if (this.user.expired && this.user.refresh_token) {
      try {
        this.user = await this.manager.signinSilent();
      } catch (error) {
        this.problem = { key: "err_renew", detail: String(error?.message ?? error) };
        this.changed();
        return "";
      }
    }
    return this.user && !this.user.expired ? this.user.access_token : "";
  }

  // Who the page calls the services as: subject, roles, branch and department as the access
  // token says where it is a JWT (what the services read), else as the ID token says; the name
  // from the ID token.
  identity() {
    const user = this.developerToken ? null : this.usableUser;
    const token = this.developerToken || user?.access_token;
    if (!token) return null;
    const claims = jwtClaims(token) ?? {};
    const profile = user?.profile ?? {};
    const paths = this.config ?? {};
    // A developer's HS256 token carries the default claim names (the services read it so); an
    // issuer's token carries them where /auth/config says (GRADELINE_OIDC_*_CLAIM).
    const read = (path, fallback) => this.developerToken
      ? claimAt(claims, fallback)
      : claimAt(claims, path || fallback) ?? claimAt(profile, path || fallback);
    const subject = read(paths.subject_claim, "sub");  // a one-value list counts as that value
    const sub = String((Array.isArray(subject) ? subject[0] : subject) ?? "");
    return {
      developer: Boolean(this.developerToken),
      sub,
      name: profile.name || profile.preferred_username
        || claims.name || claims.preferred_username || sub,
      roles: asList(read(paths.roles_claim, "roles")),
      branch: read(paths.branch_claim, "branch_id") ?? "",
      department: read(paths.department_claim, "department") ?? "",
    };
  }

  // A service answered 401 to the signed-in user's token: the page offers to sign in again.
  refused(service) {
    if (this.developerToken || !this.manager) return;
    this.problem = { key: "err_401_session", detail: "", service };
    this.changed();
  }
}

// A developer's token given as ?token=: kept for this tab, and out of the address bar and the
// history at once (before anything is awaited).
export function takeTokenFromAddress(session) {
  const query = new URLSearchParams(location.search);
  if (!query.has("token")) return;
  session.setDeveloperToken(query.get("token"));
  query.delete("token");
  const rest = query.toString();
  history.replaceState(null, "", `${location.pathname}${rest ? `?${rest}` : ""}${location.hash}`);
}

// --- the page's controls --------------------------------------------------------------------
// Found by id: #session-user, #session-roles, #session-branch (who), #sign-in, #sign-out,
// #reauth with #reauth-text and #sign-in-again (the offer to sign in again), #developer-token
// (the collapsed paste-a-token control) and #global-message (what to do when signed out).

const byId = (id) => document.getElementById(id);

export function bindSessionControls(session, t) {
  byId("sign-in").addEventListener("click", () => session.signIn());
  byId("sign-in-again").addEventListener("click", () => session.signIn());
  byId("sign-out").addEventListener("click", () => session.signOut());
  const developer = byId("developer-token");
  if (developer) developer.open = Boolean(session.developerToken) || !session.available;
  const render = () => renderSession(session, t);
  session.onChange(render);
  return render;
}

export function renderSession(session, t) {
  const who = session.identity();
  const line = byId("session-user");
  const roles = byId("session-roles");
  const branch = byId("session-branch");
  if (who) {
    const name = who.name && who.name !== who.sub ? `${who.name} (${who.sub})` : who.sub;
    line.textContent = t(who.developer ? "developer_signed_in" : "signed_in_as", { name });
    roles.textContent = `${t("roles")}: ${who.roles.length ? who.roles.join(", ") : "—"}`;
    const department = who.department ? ` · ${t("department")}: ${who.department}` : "";
    branch.textContent = who.branch || who.department
      ? `${t("branch")}: ${who.branch || "—"}${department}`
      : "";
  } else {
    line.textContent = t(session.available ? "signed_out" : "signin_unavailable");
    roles.textContent = "";
    branch.textContent = "";
  }
  roles.hidden = !who;
  branch.hidden = !branch.textContent;
  byId("sign-in").hidden = Boolean(who) || !session.available;
  byId("sign-out").hidden = !who;

  const problem = session.available && !session.developerToken ? session.problem : null;
  byId("reauth").hidden = !problem;
  byId("reauth-text").textContent = problem
    ? t(problem.key, {
      detail: problem.detail, service: problem.service ? t(`svc_${problem.service}`) : "",
    })
    : "";

  const message = byId("global-message");
  const hint = session.hasCredentials() ? "" : t(session.available ? "err_signed_out" : "err_no_token");
  message.textContent = hint;
  message.className = "message info";
  message.hidden = !hint;
}
