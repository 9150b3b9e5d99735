// The Gradeline workbench (/app/ on enrollment): plain JS modules, no build step. After signing
// in it offers each person the views their token's roles allow (views.js), one at a time, the
// view in the address's fragment (#enrol, #trainees/t-1), and links to the dashboard. Signing
// in, the API client, forms, labels and tables are the pieces every page shares (/pages/).
// Every value from an API reaches the page as text, never as HTML.

import { LABELS } from "./labels.js";
import { LABEL_TABLES, viewsFor } from "./views.js";
import { Session, bindSessionControls, takeTokenFromAddress } from "../pages/signin.js";
import { ApiClient, pageUrl, readUrls } from "../pages/api.js";
import { Language } from "../pages/i18n.js";
import { $, h } from "../pages/dom.js";

const TOKEN_STORE = "gradeline.token";
const session = new Session();
const language = new Language(LABELS, ...LABEL_TABLES);
const t = (key, values = {}) => language.t(key, values);

// The registry's branches (GET /branches, any signed-in role), read once per person.
class Branches {
  constructor(api) {
    this.api = api;
    this.loading = null;
  }

  reset() {
    this.loading = null;
  }

  all() {
    this.loading ??= this.api.get("enrollment", "/branches").then((answer) => answer.items)
      .catch((error) => {
        this.loading = null; // asked again next time
        throw error;
      });
    return this.loading;
  }

  // The branch's name in the page's language ("" until the branches are known).
  async name(id) {
    const branch = (await this.all().catch(() => [])).find((b) => b.branch_id === id);
    if (!branch) return id;
    return (language.lang === "zh" ? branch.name_zh : branch.name_en) || id;
  }
}

let urls = {};
let client = null;
let branches = null;
let current = null; // what the shown view returned: {relabel?}
let renderSession = () => {};

// What every view is given.
function context() {
  return {
    api: client,
    language,
    t,
    session,
    who: () => session.identity(),
    branches,
    urls,
    navigate: (hash) => {
      location.hash = hash;
    },
  };
}

function renderNav(views, active) {
  const nav = $("#views-nav");
  nav.hidden = !views.length;
  $("#views-list").replaceChildren(...views.map((view) => h("li", {},
    h("a", { href: `#${view.id}`, i18n: view.label, "aria-current": view === active ? "page" : null },
      t(view.label)))));
}

function dashboardLink() {
  const link = $("#dashboard-link");
  link.href = pageUrl(`/dashboard?lang=${language.lang}`, "assessment", urls, session.config);
}

// Shows the view the address names (or the person's first one), in a section of its own: a
// slower render of a view left meanwhile fills a section no longer on the page.
async function route({ focus = false } = {}) {
  const main = $("#view");
  const who = session.identity();
  const views = who ? viewsFor(who.roles) : [];
  const [id, ...rest] = location.hash.replace(/^#/, "").split("/");
  const view = views.find((v) => v.id === id) ?? views[0];
  renderNav(views, view);
  current = null;
  const section = h("section", { class: "view", "aria-labelledby": "view-title" });
  main.replaceChildren(section);
  if (!who) return;
  if (!view) {
    section.append(h("h2", { id: "view-title", tabindex: -1, i18n: "no_views_title" }),
      h("p", { class: "empty", i18n: "no_views", i18nValues: { roles: who.roles.join(", ") || "—" } }));
    language.apply(section);
    return;
  }
  if (view.id !== id) history.replaceState(null, "", `${location.pathname}${location.search}#${view.id}`);
  const param = rest.length ? decodeURIComponent(rest.join("/")) : null;
  const rendered = view.render(context(), section, param);
  language.apply(section); // what the view built at once; the rest once it has loaded
  const shown = (await rendered) ?? null;
  if (!section.isConnected) return; // left meanwhile
  current = shown;
  language.apply(section);
  if (focus) section.querySelector("h2")?.focus(); // keyboard and screen reader users land there
}

function showWaiting() {
  // While the API client waits out a 404 with Retry-After: which service, announced politely.
  const line = $("#waiting");
  const waiting = new Map();
  client.onWaiting(({ service, path, waiting: on }) => {
    if (on) waiting.set(path, service);
    else waiting.delete(path);
    const [first] = waiting.values();
    line.hidden = !first;
    if (first) {
      const values = { service: { key: `svc_${first}` } };
      line.dataset.i18n = "waiting";
      line.dataset.i18nValues = JSON.stringify(values);
      line.textContent = t("waiting", values);
    }
  });
}

function bind() {
  renderSession = bindSessionControls(session, t);
  const developer = $("#developer-token");
  developer.hidden = session.available && !session.developerToken;
  $("#token").value = session.developerToken;
  $("#token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    session.setDeveloperToken($("#token").value);
    session.changed();
  });
  let viewer = session.identity()?.sub;
  session.onChange(() => {
    renderSession();
    const now = session.identity()?.sub;
    if (now !== viewer) { // another person (or nobody): nothing of the previous one stays
      viewer = now;
      branches.reset();
      route();
    }
  });
  language.onChange(() => {
    document.title = t("title");
    dashboardLink();
    renderSession();
    current?.relabel?.();
  });
  window.addEventListener("hashchange", () => route({ focus: true }));
}

// The language first: a switch pressed while the sign-in settles is not lost.
language.read();
language.bindSwitch($("#lang-toggle"));
language.apply();
takeTokenFromAddress(session);
await session.start(); // then: a return from the provider carries the address to restore
const query = new URLSearchParams(location.search);
session.setDeveloperToken(sessionStorage.getItem(TOKEN_STORE) || "");
urls = readUrls("enrollment", query, session.config);
client = new ApiClient(session, urls);
branches = new Branches(client);
bind();
showWaiting();
language.apply();
document.title = t("title");
dashboardLink();
renderSession();
await route();
document.body.dataset.ready = "true";
