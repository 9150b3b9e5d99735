// Policies (docs/policy.md), for the executive vice-president (every policy) and payroll (pay):
// the versions of a policy and the one in force (GET /policies/{name} on the service applying
// it), a draft edited from the version in force, its changes previewed (POST
// /policies/{name}/diff: nothing stored) and published (POST /policies/{name}, 201 with the same
// changes). A refused draft lists every problem the service found (422), each by its field.

import { h } from "../pages/dom.js";
import { Notices, field } from "../pages/forms.js";

// Which service applies each policy, and who publishes it (docs/policy.md).
const POLICIES = [
  { name: "placement", service: "enrollment", roles: ["exec_vp"] },
  { name: "plan_content", service: "training", roles: ["exec_vp"] },
  { name: "grading", service: "assessment", roles: ["exec_vp"] },
  { name: "fines", service: "assessment", roles: ["exec_vp"] },
  { name: "fees", service: "compensation", roles: ["exec_vp"] },
  { name: "pay", service: "compensation", roles: ["payroll", "exec_vp"] },
];

const say = (ctx, key, values) => h("span", { i18n: key, i18nValues: values }, ctx.t(key, values));

function versionsTable(ctx, policy) {
  const rows = policy.versions.map((v) => h("tr", { dataset: { version: v.version } },
    h("td", {}, v.version), h("td", {}, v.effective_from)));
  return h("table", { id: "policy-versions", "aria-labelledby": "policy-versions-title" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, say(ctx, "pol_version")),
      h("th", { scope: "col" }, say(ctx, "pol_effective_from")))),
    h("tbody", {}, rows));
}

// The problems of a refused draft, one line each, or its changes.
function listed(id, titleKey, values, items, ctx) {
  return h("section", { id, "aria-labelledby": `${id}-title` },
    h("h3", { id: `${id}-title`, i18n: titleKey, i18nValues: values }, ctx.t(titleKey, values)),
    h("ul", {}, items.map((text) => h("li", {}, text))));
}

export async function policiesView(ctx, section) {
  const roles = ctx.who().roles;
  const mine = POLICIES.filter((p) => p.roles.some((r) => roles.includes(r)));
  const notices = new Notices(ctx.language);
  const choice = h("select", {}, mine.map((p) => h("option", { value: p.name, i18n: `pol_name_${p.name}` },
    ctx.t(`pol_name_${p.name}`))));
  const current = h("div", { id: "policy-current" });
  const outcome = h("div", { id: "policy-outcome" });
  const version = h("input", { type: "text", autocomplete: "off", maxlength: 60 });
  const effective = h("input", { type: "date" });
  const draft = h("textarea", { rows: 16, spellcheck: "false", class: "mono" });
  const preview = h("button", { type: "button", i18n: "pol_preview" }, ctx.t("pol_preview"));
  const publish = h("button", { type: "submit", i18n: "pol_publish" }, ctx.t("pol_publish"));
  const form = h("form", { id: "policy-draft", "aria-labelledby": "policy-draft-title" },
    h("h3", { id: "policy-draft-title", i18n: "pol_draft_title" }),
    field("policy-version", "pol_version", version, { required: true, hint: "pol_version_hint" }),
    field("policy-effective", "pol_effective_from", effective, { required: true }),
    field("policy-document", "pol_draft", draft, { required: true, hint: "pol_draft_hint" }),
    h("div", { class: "actions" }, preview, publish));
  section.append(h("h2", { id: "view-title", tabindex: -1, i18n: "view_policies" }),
    h("p", { class: "hint", i18n: "pol_intro" }),
    field("policy-name", "pol_policy", choice), notices.node, current, form, outcome);
  let shown = null;
  let keyed = { body: null, key: null }; // one Idempotency-Key per draft: a repeat replays
  let loads = 0; // policies asked for: only the latest choice's answer is shown

  const chosen = () => mine.find((p) => p.name === choice.value);
  const render = () => {
    if (!shown) return;
    current.replaceChildren(
      h("h3", { id: "policy-versions-title", i18n: "pol_versions" }, ctx.t("pol_versions")),
      versionsTable(ctx, shown),
      h("h3", { id: "policy-in-force-title" }, say(ctx, "pol_in_force", { version: shown.in_force?.version ?? "—" })),
      h("pre", { id: "policy-in-force", "aria-labelledby": "policy-in-force-title" },
        JSON.stringify(shown.in_force?.document ?? {}, null, 2)));
  };
  const load = async () => {
    const asked = ++loads;
    notices.status("loading");
    outcome.replaceChildren();
    try {
      const p = chosen();
      const answer = await ctx.api.get(p.service, `/policies/${p.name}`);
      if (asked !== loads) return; // another policy was chosen meanwhile
      shown = answer;
      draft.value = JSON.stringify(shown.in_force?.document ?? {}, null, 2);
      effective.value = shown.at;
      notices.clear();
      render();
    } catch (error) {
      if (asked === loads) notices.error(error);
    }
  };
  const body = () => {
    try {
      return { version: version.value.trim(), effective_from: effective.value, document: JSON.parse(draft.value) };
    } catch (error) {
      notices.alert("pol_bad_json", { detail: String(error.message ?? error) });
      return null;
    }
  };
  const send = async (path, sent) => {
    const p = chosen();
    if (path === "") {
      const text = JSON.stringify(sent);
      if (keyed.body !== text) keyed = { body: text, key: crypto.randomUUID() };
    }
    return ctx.api.request(p.service, `/policies/${p.name}${path}`, { method: "POST", body: sent, key: path === "" ? keyed.key : undefined });
  };
  const act = async (path) => {
    notices.clear();
    outcome.replaceChildren();
    const sent = body();
    if (!sent) return;
    notices.status("loading");
    try {
      const { data } = await send(path, sent);
      const changes = data.changes.length
        ? listed("policy-changes", "pol_changes", { version: data.against ?? "—" }, data.changes, ctx)
        : h("p", { id: "policy-changes", class: "empty", i18n: "pol_no_changes" }, ctx.t("pol_no_changes"));
      outcome.replaceChildren(changes);
      if (path === "") {
        notices.status("pol_published", { version: data.version, date: data.effective_from }, "ok");
        const answer = await ctx.api.get(chosen().service, `/policies/${chosen().name}`);
        shown = answer;
        render();
      } else {
        notices.clear();
      }
    } catch (error) {
      const problems = error?.status === 422 ? error.errors ?? [] : [];
      if (problems.length) {
        notices.clear();
        outcome.replaceChildren(listed("policy-problems", "pol_problems", {},
          problems.map((e) => `${String(e.field).replace(/^body\./, "")}: ${e.message}`), ctx));
      } else {
        notices.error(error);
      }
    }
  };
  choice.addEventListener("change", load);
  preview.addEventListener("click", () => act("/diff"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act("");
  });
  await load();
  return { relabel: render };
}
