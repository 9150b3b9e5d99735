// The trainer's follow-ups of a plan (docs/workbench.md): the send-backs of the plans it trains
// explained on its own returned stage (POST /plans/{id}/stages/{no}/return/explanation)
// and accepted on the stage it sent back from (.../return/accept), both texts kept (R-12a); and
// the concerns it notes about a trainee who cannot keep up (POST /plans/{id}/concerns, R-12b),
// shown with the manager's handling. The list is GET /trainers/{me}/stages (every page); a
// trainee's page reads GET /plans/{id}. Every write sends If-Match with the plan's version as
// the page showed it and one Idempotency-Key per submission.

import { h, table } from "../pages/dom.js";
import { Notices, field } from "../pages/forms.js";
import { myStages } from "./trainer.js";
import { ShownPlan, bindPlanForm, label } from "./trainee-plan.js";

const href = (traineeId) => `#follow-ups/${encodeURIComponent(traineeId)}`;
const textarea = (name) => h("textarea", { name, rows: 3, maxlength: 2000 });
const required = (values, ...names) => names.filter((n) => !values[n]).map((n) => ({ field: n, key: "required" }));
const lastSendBack = (stage) => stage.send_backs.at(-1) ?? null;

// --- my trainees -------------------------------------------------------------------------

function traineesTable(ctx, items) {
  const trainees = new Map();
  for (const s of items) {
    const row = trainees.get(s.trainee_id) ?? { ...s, reopened: 0 };
    if (s.status === "reopened") row.reopened += 1;
    trainees.set(s.trainee_id, row);
  }
  return table([
    { label: label(ctx, "d_trainee"), render: (r) => h("a", { href: href(r.trainee_id) }, r.trainee_name) },
    { label: label(ctx, "trainee_id"), key: "trainee_id" },
    { label: label(ctx, "d_plan_status"), render: (r) => label(ctx, `d_plan_${r.plan_status}`) },
    { label: label(ctx, "rb_sent_back_mine"), key: "reopened", numeric: true },
  ], [...trainees.values()], null, { attrs: { id: "follow-up-trainees" }, rowAttrs: (r) => ({ dataset: { trainee: r.trainee_id } }) });
}

async function traineesList(ctx, section) {
  const notices = new Notices(ctx.language);
  const box = h("div", { class: "scroll" });
  const refresh = h("button", { type: "button", i18n: "refresh" }, ctx.t("refresh"));
  section.append(h("h2", { id: "view-title", tabindex: -1, i18n: "view_follow_ups" }),
    h("p", { class: "caption", i18n: "rb_intro" }), h("div", { class: "actions" }, refresh), notices.node, box);
  let items = null;
  const render = () => {
    if (items === null) return;
    box.replaceChildren(items.length ? traineesTable(ctx, items)
      : h("p", { class: "empty", i18n: "d_no_stages" }, ctx.t("d_no_stages")));
    ctx.language.apply(section);
  };
  const load = async () => {
    notices.status("loading");
    try {
      items = await myStages(ctx);
      notices.clear();
    } catch (error) {
      notices.error(error);
    }
    render();
  };
  refresh.addEventListener("click", load);
  await load();
  return { relabel: render };
}

// --- one trainee's plan --------------------------------------------------------------------

function sendBacksTable(ctx, plan) {
  const rows = plan.stages.flatMap((s) => s.send_backs.map((b) => ({ ...b, no: s.no })));
  if (!rows.length) return h("p", { class: "empty", i18n: "rb_no_send_backs" });
  return table([
    { label: label(ctx, "rb_col_stage"), key: "no", numeric: true },
    { label: label(ctx, "rb_col_from"), key: "from_stage", numeric: true },
    { label: label(ctx, "rb_col_reason"), key: "reason" },
    { label: label(ctx, "d_status"), render: (b) => label(ctx, `rb_status_${b.status}`) },
    { label: label(ctx, "rb_col_explanation"), key: "explanation" },
    { label: label(ctx, "rb_col_acceptance"), render: (b) => (b.accepted_by
      ? label(ctx, b.acceptance_comment ? "rb_accepted_because" : "rb_accepted_by", { who: b.accepted_by, comment: b.acceptance_comment })
      : "—") },
  ], rows, null, { attrs: { id: "send-backs" }, rowAttrs: (b) => ({ dataset: { stage: b.no } }) });
}

export function concernHandling(ctx, c) {
  if (!c.handled) return label(ctx, "rb_concern_open");
  return label(ctx, c.verified ? "rb_handled_verified" : "rb_handled_unverified", { handling: c.handling });
}

function concernsTable(ctx, plan) {
  if (!plan.concerns.length) return h("p", { class: "empty", i18n: "rb_no_concerns" });
  return table([
    { label: label(ctx, "rb_col_stage"), key: "stage_no", numeric: true },
    { label: label(ctx, "rb_col_concern"), key: "text" },
    { label: label(ctx, "rb_col_noted"), render: (c) => `${c.noted_by}, ${c.noted_on}` },
    { label: label(ctx, "rb_col_handling"), render: (c) => concernHandling(ctx, c) },
  ], plan.concerns, null, { attrs: { id: "plan-concerns" }, rowAttrs: (c) => ({ dataset: { concern: c.concern_id } }) });
}

const stageOptions = (select, stages, key = "d_stage_title") => {
  const chosen = select.value;
  select.replaceChildren(h("option", { value: "", i18n: "choose" }), ...stages.map((s) => h("option", {
    value: String(s.no), i18n: key, i18nValues: { no: s.no, content: s.content } })));
  if (stages.some((s) => String(s.no) === chosen)) select.value = chosen;
};

const form = (id, titleKey, submitKey, ...fields) => h("form", { id: `${id}-form`, "aria-labelledby": `${id}-title` },
  h("h3", { id: `${id}-title`, i18n: titleKey }), ...fields,
  h("div", { class: "actions" }, h("button", { type: "submit", i18n: submitKey })));

async function traineeView(ctx, section, traineeId) {
  const me = ctx.who().sub;
  const notices = new Notices(ctx.language);
  const shown = new ShownPlan(ctx, traineeId, notices);
  const title = h("h2", { id: "view-title", tabindex: -1 });
  const body = h("div", { id: "follow-ups" });
  section.append(h("p", {}, h("a", { href: "#follow-ups", i18n: "rb_back" }, ctx.t("rb_back"))), title, notices.node, body);

  const explainStage = h("select", { name: "stage" });
  const acceptStage = h("select", { name: "stage" });
  const concernStage = h("select", { name: "stage_no" });
  const explainForm = form("explain", "rb_explain_title", "rb_explain_submit",
    field("explain-stage", "rb_f_explain_stage", explainStage, { required: true }),
    field("explain-text", "rb_f_explanation", textarea("explanation"), { required: true, hint: "rb_hint_explanation" }));
  const acceptForm = form("accept", "rb_accept_title", "rb_accept_submit",
    field("accept-stage", "rb_f_accept_stage", acceptStage, { required: true }),
    field("accept-comment", "rb_f_accept_comment", textarea("comment")));
  const concernForm = form("concern", "rb_concern_title", "rb_concern_submit",
    field("concern-stage", "rb_f_concern_stage", concernStage, { required: true }),
    field("concern-text", "rb_f_concern_text", textarea("text"), { required: true, hint: "rb_hint_concern" }));
  const explainEmpty = h("p", { class: "empty", i18n: "rb_nothing_to_explain" });
  const acceptEmpty = h("p", { class: "empty", i18n: "rb_nothing_to_accept" });

  const render = () => {
    const plan = shown.data;
    title.dataset.i18n = "rb_title_of";
    title.dataset.i18nValues = JSON.stringify({ name: plan.trainee_name });
    const mine = plan.stages.filter((s) => s.trainer_id === me);
    const toExplain = mine.filter((s) => lastSendBack(s)?.status === "open");
    const trainerOf = (no) => plan.stages.find((s) => s.no === no)?.trainer_id;
    const toAccept = plan.stages.filter((s) => lastSendBack(s)?.status === "explained"
      && trainerOf(lastSendBack(s).from_stage) === me);
    stageOptions(explainStage, toExplain);
    stageOptions(acceptStage, toAccept);
    stageOptions(concernStage, mine);
    explainForm.hidden = !toExplain.length;
    explainEmpty.hidden = Boolean(toExplain.length);
    acceptForm.hidden = !toAccept.length;
    acceptEmpty.hidden = Boolean(toAccept.length);
    body.replaceChildren(
      h("p", { class: "caption", i18n: "d_plan_head", i18nValues: { status: { key: `d_plan_${plan.status}` }, revision: plan.revision } }),
      h("h3", { i18n: "rb_send_backs_title" }), h("div", { class: "scroll" }, sendBacksTable(ctx, plan)),
      explainEmpty, explainForm, acceptEmpty, acceptForm,
      h("h3", { i18n: "rb_concerns_title" }), h("div", { class: "scroll" }, concernsTable(ctx, plan)),
      concernForm);
    ctx.language.apply(section);
  };
  const failed = (error) => {
    title.textContent = traineeId;
    notices.error(error);
  };
  const refresh = () => shown.show(render, failed);
  const reload = () => shown.reshow(render, failed);
  const bind = (target, options) => bindPlanForm(ctx, shown, target, { ...options, refresh, reload });

  bind(explainForm, {
    read: (f) => ({ stage: f.elements.stage.value, explanation: f.elements.explanation.value.trim() }),
    check: (values) => required(values, "stage", "explanation"),
    path: ({ stage }) => `/stages/${encodeURIComponent(stage)}/return/explanation`,
    body: ({ explanation }) => ({ explanation }),
    done: ({ stage }) => {
      explainForm.elements.explanation.value = "";
      notices.status("rb_explained", { no: stage }, "ok");
    },
  });
  bind(acceptForm, {
    read: (f) => ({ stage: f.elements.stage.value, comment: f.elements.comment.value.trim() }),
    check: (values) => required(values, "stage"),
    path: ({ stage }) => `/stages/${encodeURIComponent(stage)}/return/accept`,
    body: ({ comment }) => (comment ? { comment } : {}),
    done: ({ stage }) => {
      acceptForm.elements.comment.value = "";
      notices.status("rb_accepted", { no: stage }, "ok");
    },
  });
  bind(concernForm, {
    read: (f) => ({ stage_no: Number(f.elements.stage_no.value), text: f.elements.text.value.trim() }),
    check: (values) => required(values, "stage_no", "text"),
    path: () => "/concerns",
    done: ({ stage_no: no }) => {
      concernForm.elements.text.value = "";
      notices.status("rb_concern_noted", { no }, "ok");
    },
  });
  await refresh();
  return { relabel: () => (shown.data ? render() : null) };
}

export function followUpsView(ctx, section, param) {
  return param ? traineeView(ctx, section, decodeURIComponent(param)) : traineesList(ctx, section);
}
