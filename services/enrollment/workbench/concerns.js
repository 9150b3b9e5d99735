// The after-sales manager's concerns (docs/workbench.md, R-12b): the trainers' notes that a
// trainee cannot keep up, open ones each with a form to record whether the concern is verified
// and how it will be handled (POST /plans/{id}/concerns/{concern_id}/handling), handled ones as a
// table. The lists are training's GET /concerns?status=open|handled (a read model: a concern
// noted a moment ago may need Refresh). For a branch-commissioned trainee the branch is told
// through its feed. One Idempotency-Key per submission.

import { h, table } from "../pages/dom.js";
import { Notices, bindForm, field } from "../pages/forms.js";
import { label } from "./trainee-plan.js";

const PAGE = 100;
const MOST_PAGES = 20;

async function concerns(ctx, status) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < MOST_PAGES; page += 1) {
    const query = new URLSearchParams({ status, limit: String(PAGE) });
    if (cursor) query.set("cursor", cursor);
    const answer = await ctx.api.get("training", `/concerns?${query}`);
    items.push(...answer.items);
    cursor = answer.next_cursor;
    if (!cursor) break;
  }
  return items;
}

const facts = (ctx, c) => h("dl", { class: "profile" }, [
  ["rb_col_concern", c.text],
  ["rb_col_noted", `${c.noted_by}, ${c.noted_on}`],
  ["rb_col_branch", c.branch_id ?? "—"],
].flatMap(([key, value]) => [h("dt", {}, label(ctx, key)), h("dd", { dataset: { field: key } }, value)]));

function handlingForm(ctx, c, n, notices, handled) {
  const verified = h("select", { name: "verified" },
    h("option", { value: "", i18n: "choose" }),
    h("option", { value: "yes", i18n: "rb_verified_yes" }),
    h("option", { value: "no", i18n: "rb_verified_no" }));
  const target = h("form", { id: `handle-${n}-form`, "aria-labelledby": `handle-${n}-title` },
    h("h4", { id: `handle-${n}-title`, i18n: "rb_handle_title" }),
    field(`handle-${n}-verified`, "rb_f_verified", verified, { required: true }),
    field(`handle-${n}-handling`, "rb_f_handling", h("textarea", { name: "handling", rows: 3, maxlength: 2000 }), { required: true }),
    h("div", { class: "actions" }, h("button", { type: "submit", i18n: "rb_handle_submit" })));
  const path = `/plans/${encodeURIComponent(c.trainee_id)}/concerns/${encodeURIComponent(c.concern_id)}/handling`;
  bindForm(target, {
    language: ctx.language,
    notices,
    read: (f) => ({ verified: f.elements.verified.value, handling: f.elements.handling.value.trim() }),
    check: (v) => ["verified", "handling"].filter((k) => !v[k]).map((k) => ({ field: k, key: "required" })),
    send: (v, key) => ctx.api.request("training", path, { method: "POST", key, body: { verified: v.verified === "yes", handling: v.handling } }),
    done: () => handled(c, target),
  });
  return target;
}

function openConcern(ctx, c, n, notices, handled) {
  return h("section", { class: "panel", "aria-labelledby": `concern-${n}-title`, dataset: { concern: c.concern_id } },
    h("h3", { id: `concern-${n}-title`, i18n: "rb_concern_about", i18nValues: { name: c.trainee_name, no: c.stage_no } }),
    facts(ctx, c),
    c.category === "branch_commissioned" ? h("p", { class: "caption", i18n: "rb_branch_told" }) : null,
    handlingForm(ctx, c, n, notices, handled));
}

function handledTable(ctx, items) {
  if (!items.length) return h("p", { class: "empty", i18n: "rb_none_handled" });
  return table([
    { label: label(ctx, "d_trainee"), key: "trainee_name" },
    { label: label(ctx, "rb_col_stage"), key: "stage_no", numeric: true },
    { label: label(ctx, "rb_col_concern"), key: "text" },
    { label: label(ctx, "rb_col_handling"), render: (c) => label(ctx, c.verified ? "rb_handled_verified" : "rb_handled_unverified", { handling: c.handling }) },
    { label: label(ctx, "rb_col_handled"), render: (c) => `${c.handled_by}, ${c.handled_on}` },
  ], items, null, { attrs: { id: "handled-concerns" }, rowAttrs: (c) => ({ dataset: { concern: c.concern_id } }) });
}

export async function concernsView(ctx, section) {
  const notices = new Notices(ctx.language);
  const refresh = h("button", { type: "button", i18n: "refresh" }, ctx.t("refresh"));
  const openBox = h("div", { id: "open-concerns" });
  const handledBox = h("div", { class: "scroll" });
  section.append(h("h2", { id: "view-title", tabindex: -1, i18n: "view_concerns" }),
    h("div", { class: "actions" }, refresh), notices.node,
    h("h3", { i18n: "rb_open_title" }), openBox, h("h3", { i18n: "rb_handled_title" }), handledBox);
  let open = [];
  let done = [];
  const render = () => {
    openBox.replaceChildren(...(open.length
      ? open.map((c, n) => openConcern(ctx, c, n, notices, handled))
      : [h("p", { class: "empty", i18n: "rb_none_open" })]));
    handledBox.replaceChildren(handledTable(ctx, done));
    ctx.language.apply(section);
  };
  // The read model may lag the write: the handled concern moves over on the page at once.
  function handled(c, target) {
    const verified = target.elements.verified.value === "yes";
    open = open.filter((o) => o.concern_id !== c.concern_id);
    done = [...done, { ...c, handled: true, verified, handling: target.elements.handling.value.trim(), handled_by: ctx.who().sub, handled_on: "—" }];
    render();
    notices.status("rb_handled_now", { name: c.trainee_name }, "ok");
  }
  const load = async () => {
    notices.status("loading");
    try {
      [open, done] = await Promise.all([concerns(ctx, "open"), concerns(ctx, "handled")]);
      notices.status("rb_concerns_count", { n: open.length });
    } catch (error) {
      notices.error(error);
    }
    render();
  };
  refresh.addEventListener("click", load);
  await load();
  return { relabel: render };
}
