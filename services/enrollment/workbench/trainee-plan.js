// The trainee's plan (docs/workbench.md): the plan table 培训计划表 (GET /plans/{my id}: a trainee's
// sub is its trainee id), each day's record confirmed, agreeing or dissenting with a comment
// (POST /plans/{id}/stages/{no}/days/{date}/confirm), and the stages its trainers signed
// countersigned (POST .../countersign). Every write sends If-Match with the plan's version as the
// page showed it: a 412 says someone else changed the plan and offers to reload.
// The stage facts, the days table and the plan's writes (ShownPlan, bindPlanForm) are the
// trainer's too (trainer.js).

import { h, table } from "../pages/dom.js";
import { Notices, bindForm, field } from "../pages/forms.js";

export const label = (ctx, key, values) => h("span", { i18n: key, i18nValues: values }, ctx.t(key, values));
export const planPath = (traineeId) => `/plans/${encodeURIComponent(traineeId)}`;

// Where a stage stands in its signatures: the trainer's, then the trainee's countersign.
export function signatureKey(stage) {
  if (stage.countersigned) return stage.disputed ? "d_disputed" : "d_countersigned";
  if (stage.signed_by_trainer ?? stage.trainer_assessment !== null) return "d_awaiting_countersign";
  return "d_not_signed";
}

// What a stage is (a definition list): topic, content, department, trainer, dates, status, signatures.
export function stageFacts(ctx, stage, { trainer = true } = {}) {
  const rows = [
    ["d_topic", label(ctx, `d_topic_${stage.topic}`)],
    ["d_content", stage.content],
    ["d_department", label(ctx, `d_dept_${stage.department}`)],
    trainer ? ["d_trainer", stage.trainer_name ?? stage.trainer_id] : null,
    stage.product_series ? ["d_series", stage.product_series] : null,
    ["d_planned", label(ctx, "d_planned_range", { start: stage.planned_start, end: stage.planned_end })],
    ["d_status", label(ctx, `d_stage_${stage.status}`)],
    ["d_assessment", stage.trainer_assessment ?? "—"],
    ["d_countersign", stage.countersigned
      ? [label(ctx, signatureKey(stage)), stage.trainee_comment ? `: ${stage.trainee_comment}` : ""]
      : "—"],
  ].filter(Boolean);
  return h("dl", { class: "profile", dataset: { stage: stage.no } }, rows.flatMap(([key, value]) =>
    [h("dt", {}, label(ctx, key)), h("dd", { dataset: { field: key } }, value)]));
}

function confirmation(ctx, day) {
  if (!day.confirmed) return label(ctx, "d_unconfirmed");
  const key = day.agree ? "d_agreed" : "d_dissented";
  return day.comment ? label(ctx, `${key}_because`, { comment: day.comment }) : label(ctx, key);
}

// A stage's daily records, one row a day, with the trainee's confirmation.
export function daysTable(ctx, stage, id) {
  if (!stage.days.length) return h("p", { class: "empty", i18n: "d_no_days" }, ctx.t("d_no_days"));
  return table([
    { label: label(ctx, "d_col_date"), key: "date" },
    { label: label(ctx, "d_hours"), key: "hours", numeric: true },
    { label: label(ctx, "d_col_content"), key: "content" },
    { label: label(ctx, "d_col_method"), key: "method" },
    { label: label(ctx, "d_col_performance"), key: "performance" },
    { label: label(ctx, "d_col_effect"), key: "effect" },
    { label: label(ctx, "d_col_confirmation"), render: (d) => confirmation(ctx, d) },
  ], stage.days, null, { attrs: { id, class: "days" }, rowAttrs: (d) => ({ dataset: { date: d.date } }) });
}

// The plan as the page shows it, and what a write does with it: a reload after each write (the
// answer's names come with the read), a 412's Reload keeping what the person typed.
export class ShownPlan {
  constructor(ctx, traineeId, notices) {
    this.ctx = ctx;
    this.traineeId = traineeId;
    this.notices = notices;
    this.answer = null; // {data, version}
  }

  get data() {
    return this.answer?.data ?? null;
  }

  async load() {
    this.answer = await this.ctx.api.request("training", planPath(this.traineeId));
    return this.data;
  }

  // A write on the plan, decided on the version shown.
  send(path, body, key) {
    return this.ctx.api.request("training", `${planPath(this.traineeId)}${path}`,
      { method: "POST", body, key, ifMatch: this.answer.version });
  }

  // Reads the plan and shows it (render()); what went wrong is failed(error)'s to say.
  async show(render, failed = (error) => this.notices.error(error)) {
    try {
      await this.load();
      render();
    } catch (error) {
      failed(error);
    }
  }

  // After a 412: the plan as it now is, said so; what the person typed stays in the forms.
  async reshow(render, failed) {
    this.notices.clear();
    await this.show(render, failed);
    if (this.data) this.notices.status("d_reloaded", { version: this.answer.version });
  }
}

// A form that writes on the shown plan: ``path(values)`` and ``body(values)`` make the request;
// ``done(values)`` says what was sent once the plan is shown again (``refresh()``) as it now is.
export function bindPlanForm(ctx, shown, form, {
  read, check, path, body = (values) => values, done, refresh, reload,
}) {
  let sent = null;
  return bindForm(form, {
    language: ctx.language,
    notices: shown.notices,
    read,
    check,
    send: (values, key) => {
      sent = values;
      return shown.send(path(values), body(values), key);
    },
    done: async () => {
      await refresh();
      done(sent);
    },
    reload,
  });
}

const select = (name, options) => h("select", { name }, options.map(([value, key, values]) =>
  h("option", { value, i18n: key, i18nValues: values })));

// A confirmation or countersign: what is confirmed (``chooser``), agreeing or not, a comment.
const agreementForm = (id, titleKey, chooser, submitKey) => h("form", { id: `${id}-form`, "aria-labelledby": `${id}-title` },
  h("h3", { id: `${id}-title`, i18n: titleKey }),
  chooser,
  field(`${id}-agreement`, "f_agreement", select("agreement", [["", "choose"], ["agree", "d_agree"], ["disagree", "d_disagree"]]), { required: true }),
  field(`${id}-comment`, "f_comment", h("textarea", { name: "comment", rows: 2, maxlength: 2000 }), { hint: "hint_comment" }),
  h("div", { class: "actions" }, h("button", { type: "submit", i18n: submitKey })));

// What the form sends: what it confirms (``extra(form)``), and the body (agree, comment); the
// answer is chosen each time, never assumed.
function readAgreement(form, extra) {
  const comment = form.elements.comment.value.trim();
  const answer = form.elements.agreement.value;
  const body = { agree: answer === "agree" };
  if (comment) body.comment = comment;
  return { ...extra(form), answer, body };
}

function checkAgreement(values, chosen) {
  const errors = values[chosen] ? [] : [{ field: chosen === "date" ? "day" : "stage", key: "required" }];
  return values.answer ? errors : [...errors, { field: "agreement", key: "required" }];
}

function clearAgreement(form) {
  form.elements.agreement.value = "";
  form.elements.comment.value = "";
}

export async function traineePlanView(ctx, section) {
  const notices = new Notices(ctx.language);
  const me = ctx.who().sub;
  const shown = new ShownPlan(ctx, me, notices);
  const body = h("div", { id: "my-plan" });
  section.append(h("h2", { id: "view-title", tabindex: -1, i18n: "view_my_plan" }), notices.node, body);

  const daySelect = h("select", { name: "day" });
  const stageSelect = h("select", { name: "stage" });
  const confirmForm = agreementForm("confirm", "d_confirm_title",
    field("confirm-day", "f_confirm_day", daySelect, { required: true }), "d_confirm_submit");
  const countersignForm = agreementForm("countersign", "d_countersign_title",
    field("countersign-stage", "f_countersign_stage", stageSelect, { required: true }), "d_countersign_submit");
  const confirmEmpty = h("p", { class: "empty", i18n: "d_nothing_to_confirm" });
  const countersignEmpty = h("p", { class: "empty", i18n: "d_nothing_to_countersign" });

  const fillChoices = (plan) => {
    const days = plan.stages.flatMap((s) => s.days.filter((d) => !d.confirmed).map((d) => [s.no, d.date]));
    const chosenDay = daySelect.value;
    daySelect.replaceChildren(...days.map(([no, date]) => h("option", { value: `${no}|${date}`,
      i18n: "d_day_option", i18nValues: { no, date } })));
    if (days.some(([no, date]) => `${no}|${date}` === chosenDay)) daySelect.value = chosenDay;
    confirmForm.hidden = !days.length;
    confirmEmpty.hidden = Boolean(days.length);
    const awaiting = plan.stages.filter((s) => s.trainer_assessment !== null && !s.countersigned);
    const chosenStage = stageSelect.value;
    stageSelect.replaceChildren(...awaiting.map((s) => h("option", { value: String(s.no),
      i18n: "d_stage_title", i18nValues: { no: s.no, content: s.content } })));
    if (awaiting.some((s) => String(s.no) === chosenStage)) stageSelect.value = chosenStage;
    countersignForm.hidden = !awaiting.length;
    countersignEmpty.hidden = Boolean(awaiting.length);
  };

  const render = () => {
    const plan = shown.data;
    const stages = plan.stages.map((stage) => h("section", { class: "panel", "aria-labelledby": `stage-${stage.no}-title`, dataset: { stage: stage.no } },
      h("h3", { id: `stage-${stage.no}-title`, i18n: "d_stage_title", i18nValues: { no: stage.no, content: stage.content } }),
      stageFacts(ctx, stage),
      h("div", { class: "scroll" }, daysTable(ctx, stage, `days-${stage.no}`))));
    body.replaceChildren(
      h("p", { class: "caption", i18n: "d_plan_of", i18nValues: { name: plan.trainee_name } }),
      h("p", { class: "caption", i18n: "d_plan_head", i18nValues: { status: { key: `d_plan_${plan.status}` }, revision: plan.revision } }),
      ...stages,
      confirmEmpty, confirmForm, countersignEmpty, countersignForm);
    fillChoices(plan);
    ctx.language.apply(body);
  };
  const noPlan = (error) => {
    if (error.status === 404 && !error.waited) {
      body.replaceChildren(h("p", { class: "empty", i18n: "d_no_plan" }, ctx.t("d_no_plan")));
    } else {
      notices.error(error);
    }
  };
  const refresh = () => shown.show(render, noPlan);
  const reload = () => shown.reshow(render, noPlan);

  bindPlanForm(ctx, shown, confirmForm, {
    read: (form) => readAgreement(form, () => {
      const [no, date] = daySelect.value.split("|");
      return { no, date };
    }),
    check: (values) => checkAgreement(values, "date"),
    path: ({ no, date }) => `/stages/${encodeURIComponent(no)}/days/${encodeURIComponent(date)}/confirm`,
    body: (values) => values.body,
    done: ({ date }) => {
      clearAgreement(confirmForm);
      notices.status("d_confirmed", { date }, "ok");
    },
    refresh,
    reload,
  });
  bindPlanForm(ctx, shown, countersignForm, {
    read: (form) => readAgreement(form, () => ({ no: stageSelect.value })),
    check: (values) => checkAgreement(values, "no"),
    path: ({ no }) => `/stages/${encodeURIComponent(no)}/countersign`,
    body: (values) => values.body,
    done: ({ no }) => {
      clearAgreement(countersignForm);
      notices.status("d_countersigned_now", { no }, "ok");
    },
    refresh,
    reload,
  });
  await refresh();
  return { relabel: () => (shown.data ? render() : null) };
}
