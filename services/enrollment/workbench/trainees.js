// A branch's trainees (docs/workbench.md): the list (GET /trainees?branch_id=, every page of it)
// with a filter by name or id, and one trainee (GET /trainees/{id}, read from its own stream:
// never stale) with its withdrawal (POST /trainees/{id}/withdraw with If-Match: the version the
// page showed; a 412 says someone else changed the trainee and offers to reload).

import { fmt, h, show, table } from "../pages/dom.js";
import { Notices, bindForm, field } from "../pages/forms.js";
import { gradeDetails } from "./grade.js";

const PAGE = 200;
const MOST_PAGES = 25; // 5000 trainees: a branch's list, not the company's

async function branchTrainees(ctx, branchId) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < MOST_PAGES; page += 1) {
    const query = new URLSearchParams({ branch_id: branchId, limit: String(PAGE) });
    if (cursor) query.set("cursor", cursor);
    const answer = await ctx.api.get("enrollment", `/trainees?${query}`);
    items.push(...answer.items);
    cursor = answer.next_cursor;
    if (!cursor) break;
  }
  return items;
}

const label = (ctx, key, values) => h("span", { i18n: key, i18nValues: values }, ctx.t(key, values));
const traineeLink = (r) => h("a", { href: `#trainees/${encodeURIComponent(r.trainee_id)}` }, r.name);

export function traineesView(ctx, section, traineeId) {
  return traineeId ? traineeView(ctx, section, traineeId) : listView(ctx, section);
}

async function listView(ctx, section) {
  const notices = new Notices(ctx.language);
  const branchId = ctx.who().branch;
  const title = h("h2", { id: "view-title", tabindex: -1 });
  const search = h("input", { type: "search", name: "find", autocomplete: "off" });
  const refresh = h("button", { type: "button", i18n: "refresh" });
  const filter = h("form", { role: "search", class: "filters", "aria-labelledby": "view-title" },
    field("trainees-find", "f_find", search, { hint: "hint_find" }), refresh);
  const box = h("div", { id: "trainees-table", class: "scroll" });
  section.append(title, filter, notices.node, box);
  let items = null;

  const titled = async () => {
    const name = branchId ? await ctx.branches.name(branchId) : "—";
    title.dataset.i18n = "trainees_of";
    title.dataset.i18nValues = JSON.stringify({ branch: name });
    title.textContent = ctx.t("trainees_of", { branch: name });
  };
  const render = () => {
    if (items === null) return;
    const words = search.value.trim().toLowerCase();
    const shown = items.filter((r) => !words
      || r.name.toLowerCase().includes(words) || r.trainee_id.toLowerCase().includes(words));
    box.replaceChildren(shown.length ? table([
      { label: label(ctx, "f_name"), render: traineeLink },
      { label: label(ctx, "trainee_id"), key: "trainee_id" },
      { label: label(ctx, "f_category"), render: (r) => label(ctx, `cat_${r.category}`) },
      { label: label(ctx, "f_enrolled_on"), key: "enrolled_on" },
      { label: label(ctx, "status"), render: (r) => label(ctx, `status_${r.status}`) },
    ], shown, null, { attrs: { id: "trainees" }, rowAttrs: (r) => ({ dataset: { trainee: r.trainee_id } }) })
      : h("p", { class: "empty", i18n: items.length ? "no_match" : "no_trainees" },
        ctx.t(items.length ? "no_match" : "no_trainees")));
  };
  const load = async () => {
    notices.clear();
    if (!branchId) {
      notices.alert("err_no_branch", { branch: "—" });
      return;
    }
    notices.status("loading");
    try {
      items = await branchTrainees(ctx, branchId);
      notices.status("trainees_count", { n: items.length });
    } catch (error) {
      notices.error(error);
    }
    render();
  };
  filter.addEventListener("submit", (event) => event.preventDefault());
  search.addEventListener("input", render);
  refresh.addEventListener("click", load);
  await Promise.all([titled(), load()]);
  return { relabel: () => { titled(); render(); } };
}

// --- one trainee --------------------------------------------------------------------------

function profile(ctx, trainee, branchName) {
  const rows = [
    ["trainee_id", trainee.trainee_id],
    ["f_branch", branchName],
    ["f_category", label(ctx, `cat_${trainee.category}`)],
    ["f_education", label(ctx, `edu_${trainee.education}`)],
    ["f_experience_years", trainee.experience_years],
    ["f_certificates", fmt(trainee.certificates)],
    ["f_product_series", fmt(trainee.product_series)],
    ["f_enrolled_on", trainee.enrolled_on],
    ["status", label(ctx, `status_${trainee.status}`)],
  ];
  if (trainee.position) rows.push(["position", label(ctx, `position_${trainee.position}`)]);
  return h("dl", { class: "profile", id: "trainee-profile" }, rows.flatMap(([key, value]) =>
    [h("dt", {}, label(ctx, key)), h("dd", { dataset: { field: key } }, value)]));
}

// The result reported back to the branch: the trainee's grade as assessment decided it, or
// why there is none (not examined yet, failed: R-18, no position: R-21), as the service says.
async function readResult(ctx, traineeId) {
  try {
    return { grade: (await ctx.api.request("assessment", `/trainees/${encodeURIComponent(traineeId)}/grade`)).data };
  } catch (error) {
    return { missing: error.status === 404 ? "results_no_grade" : "results_unavailable", error };
  }
}

function results(ctx, result) {
  const values = { detail: result.error?.detail ?? "", service: { key: "svc_assessment" } };
  return h("section", { id: "trainee-results", "aria-labelledby": "results-title" },
    h("h3", { id: "results-title", i18n: "results_title" }, ctx.t("results_title")),
    result.grade ? gradeDetails(ctx, result.grade)
      : h("p", { class: "empty", i18n: result.missing, i18nValues: values }, ctx.t(result.missing, values)));
}

async function traineeView(ctx, section, traineeId) {
  const notices = new Notices(ctx.language);
  const body = h("div");
  const reason = h("textarea", { name: "reason", rows: 3, maxlength: 1000 });
  section.append(h("p", {}, h("a", { href: "#trainees", i18n: "back_to_list" }, ctx.t("back_to_list"))),
    body, notices.node);
  let shown = null; // {data, version}: what the person sees, and decides the withdrawal on
  let result = null; // the trainee's result (readResult)

  const form = h("form", { id: "withdraw-form", "aria-labelledby": "withdraw-title" },
    h("h3", { id: "withdraw-title", i18n: "withdraw_title" }, ctx.t("withdraw_title")),
    field("withdraw-reason", "f_reason", reason, { required: true }),
    h("div", { class: "actions" }, h("button", { type: "submit", i18n: "withdraw_submit" }, ctx.t("withdraw_submit"))));

  const render = async () => {
    const trainee = shown.data;
    const branchName = await ctx.branches.name(trainee.branch_id);
    show(body,
      h("h2", { id: "view-title", tabindex: -1 }, trainee.name),
      profile(ctx, trainee, branchName),
      result ? results(ctx, result) : null,
      trainee.status === "withdrawn" ? null : form);
    ctx.language.apply(body);
  };
  const load = async () => {
    try {
      shown = await ctx.api.request("enrollment", `/trainees/${encodeURIComponent(traineeId)}`);
      result = await readResult(ctx, traineeId);
      await render();
    } catch (error) {
      body.replaceChildren(h("h2", { id: "view-title", tabindex: -1 }, traineeId));
      notices.error(error);
    }
  };
  const reload = async () => {
    notices.clear();
    await load();
    if (shown) notices.status("reloaded", { version: shown.version });
    reason.focus();
  };

  bindForm(form, {
    language: ctx.language,
    notices,
    read: () => ({ reason: reason.value.trim() }),
    check: (values) => (values.reason ? [] : [{ field: "reason", key: "required" }]),
    send: (values, key) => ctx.api.request("enrollment",
      `/trainees/${encodeURIComponent(traineeId)}/withdraw`,
      { method: "POST", body: values, key, ifMatch: shown.version }),
    done: async () => {
      reason.value = "";
      await load();
      notices.status("withdrawn", { name: shown.data.name }, "ok");
      body.querySelector("h2")?.focus();
    },
    reload,
  });
  await load();
  return { relabel: () => (shown ? render() : null) };
}
