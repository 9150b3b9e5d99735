// The branch clerk's "Feedback" (#feedback, docs/workbench.md), from the compensation service:
// GET /branches/{branch}/feedback (newest first, a page at a time: "Show older entries" follows
// next_cursor): every result and suggestion about the branch's trainees (R-2, R-12b). Below it
// the branch's training fees of a month (GET /branch-fees/{month}: the clerk's own branch),
// each assessed or issued (R-33).

import { h, table } from "../pages/dom.js";
import { Notices, field, showFieldErrors } from "../pages/forms.js";
import { named } from "../pages/names.js";
import { feesTable, label } from "./payslips.js";

const PAGE = 50;
const MONTH = /^[0-9]{4}-(0[1-9]|1[0-2])$/;

const post = (ctx, e) => (e.position
  ? `${ctx.t(`position_${e.position}`)}${e.level ? ` · ${ctx.t(`a_level_${e.level}`)}` : ""}`
  : ctx.t("fb_no_position"));
const exams = (ctx, e) => (e.failed_exams ?? []).map((x) => ctx.t(`a_${x}`)).join(", ");
const dash = (value) => (value === null || value === undefined || value === "" ? "—" : String(value));

// What the entry says, in the page's language.
function details(ctx, e) {
  switch (e.kind) {
    case "grade": {
      const text = ctx.t("fb_grade", { post: post(ctx, e), score: dash(e.grade_score) });
      return e.corrects ? `${text}; ${ctx.t("fb_correction")}` : text;
    }
    case "failure":
      return ctx.t("fb_failed", { exams: exams(ctx, e), written: dash(e.written), practical: dash(e.practical_mean) });
    case "disposition":
      return `${ctx.t(`a_disposition_${e.outcome}`)}: ${dash(e.reason)}`;
    case "concern":
      return ctx.t("fb_concern", { stage: dash(e.stage_no), text: dash(e.text), by: dash(e.by) });
    case "concern_handled":
      return ctx.t("fb_handled", { verified: ctx.t(e.verified ? "fb_verified" : "fb_not_verified"),
        handling: dash(e.handling), by: dash(e.by) });
    default:
      return "—";
  }
}

function feedTable(ctx, items) {
  return table([
    { label: label(ctx, "fb_on"), render: (e) => e.occurred_on ?? String(e.occurred_at).slice(0, 10) },
    { label: label(ctx, "fb_trainee"), render: (e) => named(e.trainee_name, e.trainee_id) },
    { label: label(ctx, "fb_kind"), render: (e) => ctx.t(`fb_kind_${e.kind}`) },
    { label: label(ctx, "fb_details"), render: (e) => details(ctx, e) },
  ], items, null, { attrs: { id: "feedback" }, rowAttrs: (e) => ({ dataset: { kind: e.kind, trainee: e.trainee_id } }) });
}

// The branch's fees of a month, chosen with the form above them.
function branchFees(ctx) {
  const notices = new Notices(ctx.language);
  const input = h("input", { type: "month", value: new Date().toISOString().slice(0, 7), required: true });
  const form = h("form", { class: "filters", "aria-labelledby": "fees-title" },
    field("feedback-month", "pay_month", input),
    h("button", { type: "submit", i18n: "pay_show" }, ctx.t("pay_show")));
  form.noValidate = true;
  const box = h("div", { class: "scroll" });
  let shown = null;
  const render = () => {
    if (!shown) return;
    box.replaceChildren(h("h4", {}, ctx.t("fb_fees_of", { month: shown.month })),
      shown.rows.length ? feesTable(ctx, shown.rows) : h("p", { class: "empty" }, ctx.t("pay_no_fees")));
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!MONTH.test(input.value)) {
      showFieldErrors(form, [{ field: input.name, key: "err_month" }], ctx.language);
      return;
    }
    notices.status("loading");
    try {
      shown = await ctx.api.get("compensation", `/branch-fees/${input.value}`);
      notices.clear();
      render();
    } catch (error) {
      notices.error(error);
    }
  });
  const node = h("section", { "aria-labelledby": "fees-title" },
    h("h3", { id: "fees-title", i18n: "fb_fees_title" }, ctx.t("fb_fees_title")), form, notices.node, box);
  return { node, render };
}

export async function feedbackView(ctx, section) {
  const branchId = ctx.who().branch;
  const notices = new Notices(ctx.language);
  const title = h("h2", { id: "view-title", tabindex: -1 });
  const refresh = h("button", { type: "button", i18n: "refresh" }, ctx.t("refresh"));
  const more = h("button", { type: "button", i18n: "fb_more", hidden: true }, ctx.t("fb_more"));
  const box = h("div", { class: "scroll" });
  const fees = branchFees(ctx);
  section.append(title, h("p", { class: "hint", i18n: "fb_intro" }, ctx.t("fb_intro")),
    h("div", { class: "actions" }, refresh), notices.node, box, h("div", { class: "actions" }, more), fees.node);
  let items = null;
  let cursor = null;
  let branch = branchId ?? "—";

  const render = () => {
    title.textContent = ctx.t("fb_title", { branch });
    if (items === null) return;
    box.replaceChildren(items.length ? feedTable(ctx, items) : h("p", { class: "empty" }, ctx.t("fb_none")));
    more.hidden = !cursor;
    fees.render();
  };
  const load = async (next) => {
    notices.clear();
    if (!branchId) {
      notices.alert("err_no_branch", { branch: "—" });
      return;
    }
    notices.status("loading");
    try {
      const query = new URLSearchParams({ limit: String(PAGE) });
      if (next) query.set("cursor", next);
      const answer = await ctx.api.get("compensation", `/branches/${encodeURIComponent(branchId)}/feedback?${query}`);
      items = next ? [...items, ...answer.items] : answer.items;
      cursor = answer.next_cursor;
      notices.status("fb_count", { n: items.length });
    } catch (error) {
      notices.error(error);
    }
    render();
  };
  refresh.addEventListener("click", () => load(null));
  more.addEventListener("click", () => load(cursor));
  if (branchId) branch = await ctx.branches.name(branchId);
  await load(null);
  return { relabel: async () => {
    if (branchId) branch = await ctx.branches.name(branchId);
    render();
  } };
}
