// The trainer's daily work (docs/workbench.md): my stages and my trainees (GET
// /trainers/{me}/stages, every page of it), and one stage of a trainee's plan (GET /plans/{id}):
// the day's record (POST /plans/{id}/stages/{no}/days), the sign-off with an assessment
// (.../sign-off) and the send-back of an earlier stage with the reason (.../return). Every write
// sends If-Match with the plan's version as the page showed it (a 412 says someone else changed
// the plan and offers to reload) and one Idempotency-Key per submission (a double click stores
// once).

import { h, table } from "../pages/dom.js";
import { Notices, field } from "../pages/forms.js";
import { ShownPlan, bindPlanForm, daysTable, label, signatureKey, stageFacts } from "./trainee-plan.js";

const PAGE = 100;
const MOST_PAGES = 20;
// Hours as the request model takes them: above 0, at most 24, two decimals at most.
const HOURS = /^(\d{1,2})(\.\d{1,2})?$/;

export async function myStages(ctx) {
  const me = encodeURIComponent(ctx.who().sub);
  const items = [];
  let cursor = null;
  for (let page = 0; page < MOST_PAGES; page += 1) {
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (cursor) query.set("cursor", cursor);
    const answer = await ctx.api.get("training", `/trainers/${me}/stages?${query}`);
    items.push(...answer.items);
    cursor = answer.next_cursor;
    if (!cursor) break;
  }
  return items;
}

const stageHref = (traineeId, no) => `#my-stages/${encodeURIComponent(traineeId)}/${no}`;
const stageLink = (ctx, s) => h("a", { href: stageHref(s.trainee_id, s.no) }, label(ctx, "d_open_stage", { no: s.no }));

// A list view: loads, then shows ``build(items)``; Refresh loads again.
async function listed(ctx, section, titleKey, build, countOf) {
  const notices = new Notices(ctx.language);
  const refresh = h("button", { type: "button", i18n: "refresh" }, ctx.t("refresh"));
  const box = h("div", { class: "scroll" });
  section.append(h("h2", { id: "view-title", tabindex: -1, i18n: titleKey }),
    h("div", { class: "actions" }, refresh), notices.node, box);
  let items = null;
  const render = () => {
    if (items === null) return;
    box.replaceChildren(items.length ? build(items)
      : h("p", { class: "empty", i18n: "d_no_stages" }, ctx.t("d_no_stages")));
  };
  const load = async () => {
    notices.status("loading");
    try {
      items = await myStages(ctx);
      const [key, values] = countOf(items);
      notices.status(key, values);
    } catch (error) {
      notices.error(error);
    }
    render();
  };
  refresh.addEventListener("click", load);
  await load();
  return { relabel: render };
}

function stagesTable(ctx, items) {
  return table([
    { label: label(ctx, "d_trainee"), render: (s) => h("a", { href: stageHref(s.trainee_id, s.no) }, s.trainee_name) },
    { label: label(ctx, "d_stage"), key: "no", numeric: true },
    { label: label(ctx, "d_topic"), render: (s) => label(ctx, `d_topic_${s.topic}`) },
    { label: label(ctx, "d_content"), key: "content" },
    { label: label(ctx, "d_planned"), render: (s) => label(ctx, "d_planned_range", { start: s.planned_start, end: s.planned_end }) },
    { label: label(ctx, "d_status"), render: (s) => label(ctx, `d_stage_${s.status}`) },
    { label: label(ctx, "d_days"), key: "days_logged", numeric: true },
    { label: label(ctx, "d_unconfirmed"), key: "days_unconfirmed", numeric: true },
    { label: label(ctx, "d_signature"), render: (s) => label(ctx, signatureKey(s)) },
  ], items, null, { attrs: { id: "my-stages" }, rowAttrs: (s) => ({ dataset: { trainee: s.trainee_id, stage: s.no } }) });
}

function traineesTable(ctx, items) {
  const trainees = new Map();
  for (const s of items) {
    if (!trainees.has(s.trainee_id)) trainees.set(s.trainee_id, { ...s, stages: [] });
    trainees.get(s.trainee_id).stages.push(s);
  }
  return table([
    { label: label(ctx, "f_name"), key: "trainee_name" },
    { label: label(ctx, "trainee_id"), key: "trainee_id" },
    { label: label(ctx, "d_plan_status"), render: (r) => label(ctx, `d_plan_${r.plan_status}`) },
    { label: label(ctx, "d_my_stages_of"), render: (r) => r.stages.flatMap((s, i) => [i ? ", " : "", stageLink(ctx, s)]) },
    { label: label(ctx, "d_days"), render: (r) => String(r.stages.reduce((n, s) => n + s.days_logged, 0)), numeric: true },
  ], [...trainees.values()], null, { attrs: { id: "my-trainees" }, rowAttrs: (r) => ({ dataset: { trainee: r.trainee_id } }) });
}

const plansOf = (items) => new Set(items.map((s) => s.trainee_id)).size;

export function trainerStagesView(ctx, section, param) {
  if (param) {
    const [traineeId, no] = param.split("/");
    return stageView(ctx, section, traineeId, Number(no));
  }
  return listed(ctx, section, "view_my_stages", (items) => stagesTable(ctx, items),
    (items) => ["d_stages_count", { n: items.length, plans: plansOf(items) }]);
}

export function trainerTraineesView(ctx, section) {
  return listed(ctx, section, "view_my_trainees", (items) => traineesTable(ctx, items),
    (items) => ["d_trainees_count", { n: plansOf(items) }]);
}

// --- one stage ----------------------------------------------------------------------------

const textarea = (name, max = 2000) => h("textarea", { name, rows: 2, maxlength: max });

function readDay(form) {
  const value = (name) => form.elements[name].value.trim();
  return {
    date: value("date"),
    hours: value("hours"),
    content: value("content"),
    method: value("method"),
    performance: value("performance"),
    effect: value("effect"),
  };
}

// DayBody's checks (services/training/schemas.py); the service's clock decides "not in the future".
function checkDay(day) {
  const errors = [];
  if (!day.date) errors.push({ field: "date", key: "required" });
  const hours = HOURS.exec(day.hours);
  if (!day.hours) errors.push({ field: "hours", key: "required" });
  else if (!hours || Number(day.hours) <= 0 || Number(day.hours) > 24) errors.push({ field: "hours", key: "err_hours" });
  if (!day.content) errors.push({ field: "content", key: "required" });
  return errors;
}

async function stageView(ctx, section, traineeId, no) {
  const notices = new Notices(ctx.language);
  const shown = new ShownPlan(ctx, traineeId, notices);
  const title = h("h2", { id: "view-title", tabindex: -1 });
  const body = h("div", { id: "stage" });
  section.append(h("p", {}, h("a", { href: "#my-stages", i18n: "d_back_to_stages" }, ctx.t("d_back_to_stages"))),
    title, notices.node, body);

  const dayForm = h("form", { id: "day-form", "aria-labelledby": "day-title" },
    h("h3", { id: "day-title", i18n: "d_log_title" }),
    field("day-date", "f_day_date", h("input", { type: "date", name: "date" }), { required: true }),
    field("day-hours", "f_day_hours", h("input", { type: "text", name: "hours", inputmode: "decimal", autocomplete: "off" }), { required: true, hint: "hint_day_hours" }),
    field("day-content", "f_day_content", textarea("content"), { required: true }),
    field("day-method", "f_day_method", textarea("method")),
    field("day-performance", "f_day_performance", textarea("performance")),
    field("day-effect", "f_day_effect", textarea("effect")),
    h("div", { class: "actions" }, h("button", { type: "submit", i18n: "d_log_submit" })));
  const signForm = h("form", { id: "signoff-form", "aria-labelledby": "signoff-title" },
    h("h3", { id: "signoff-title", i18n: "d_signoff_title" }),
    field("signoff-assessment", "f_assessment", textarea("assessment"), { required: true, hint: "hint_assessment" }),
    h("div", { class: "actions" }, h("button", { type: "submit", i18n: "d_signoff_submit" })));
  const toStage = h("select", { name: "to_stage" });
  const returnForm = h("form", { id: "return-form", "aria-labelledby": "return-title" },
    h("h3", { id: "return-title", i18n: "d_return_title" }),
    field("return-to", "f_return_to", toStage, { required: true, hint: "hint_return" }),
    field("return-reason", "f_return_reason", textarea("reason"), { required: true }),
    h("div", { class: "actions" }, h("button", { type: "submit", i18n: "d_return_submit" })));
  const noEarlier = h("p", { class: "empty", i18n: "d_no_earlier" });

  const stage = () => shown.data?.stages.find((s) => s.no === no) ?? null;
  const render = () => {
    const plan = shown.data;
    const current = stage();
    const name = plan.trainee_name;
    title.dataset.i18n = "d_stage_of";
    title.dataset.i18nValues = JSON.stringify({ no, name });
    if (!current || current.trainer_id !== ctx.who().sub) {
      body.replaceChildren(h("p", { class: "empty", i18n: "d_not_yours", i18nValues: { no } }));
      ctx.language.apply(section);
      return;
    }
    const open = current.status !== "signed_off";
    const earlier = plan.stages.filter((s) => s.no < no && s.status === "signed_off");
    const chosen = toStage.value;
    toStage.replaceChildren(...earlier.map((s) => h("option", { value: String(s.no),
      i18n: "d_stage_title", i18nValues: { no: s.no, content: s.content } })));
    if (earlier.some((s) => String(s.no) === chosen)) toStage.value = chosen;
    signForm.hidden = !open || current.trainer_assessment !== null;
    returnForm.hidden = !earlier.length;
    noEarlier.hidden = Boolean(earlier.length);
    dayForm.hidden = !open;
    body.replaceChildren(
      h("p", { class: "caption", i18n: "d_plan_head", i18nValues: { status: { key: `d_plan_${plan.status}` }, revision: plan.revision } }),
      stageFacts(ctx, current, { trainer: false }),
      h("h3", { i18n: "d_days_title" }),
      h("div", { class: "scroll" }, daysTable(ctx, current, "stage-days")),
      dayForm, signForm, returnForm, noEarlier);
    ctx.language.apply(section);
  };
  const failed = (error) => {
    title.textContent = traineeId;
    notices.error(error);
  };
  const refresh = () => shown.show(render, failed);
  const reload = () => shown.reshow(render, failed);
  const bind = (form, options) => bindPlanForm(ctx, shown, form, { ...options, refresh, reload });

  bind(dayForm, {
    read: readDay,
    check: checkDay,
    path: () => `/stages/${no}/days`,
    done: ({ date }) => {
      for (const name of ["content", "method", "performance", "effect"]) dayForm.elements[name].value = "";
      notices.status("d_logged", { date, no }, "ok");
    },
  });
  bind(signForm, {
    read: (form) => ({ assessment: form.elements.assessment.value.trim() }),
    check: (values) => (values.assessment ? [] : [{ field: "assessment", key: "required" }]),
    path: () => `/stages/${no}/sign-off`,
    done: () => {
      signForm.elements.assessment.value = "";
      notices.status("d_signed_off", { no }, "ok");
    },
  });
  bind(returnForm, {
    read: (form) => ({ to_stage: Number(form.elements.to_stage.value), reason: form.elements.reason.value.trim() }),
    check: (values) => [
      ...(values.to_stage ? [] : [{ field: "to_stage", key: "required" }]),
      ...(values.reason ? [] : [{ field: "reason", key: "required" }]),
    ],
    path: () => `/stages/${no}/return`,
    done: ({ to_stage: to }) => {
      returnForm.elements.reason.value = "";
      notices.status("d_returned", { to }, "ok");
    },
  });
  await refresh();
  return { relabel: () => (shown.data ? render() : null) };
}
