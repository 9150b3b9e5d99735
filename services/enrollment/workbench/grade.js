// A trainee's grade (docs/workbench.md): the trainee's own (sub = trainee id) with how it was
// derived (GET /trainees/{id}/grade: the scores, the policy version and the rule trace), its
// disputes (GET /disputes: a trainee lists its own) and filing one (POST /trainees/{id}/disputes
// with If-Match: the version of the grade the page showed, so a grade corrected meanwhile is not
// disputed blindly: R-23). And the auditor's way to a trainee's audit: the dashboard's timeline
// (/dashboard#audit/<id> on assessment).

import { fmt, h, table, when } from "../pages/dom.js";
import { Notices, bindForm, field } from "../pages/forms.js";
import { everyPage, gradeLabel, say } from "./sessions.js";

const path = encodeURIComponent;

export function gradeDetails(ctx, grade) {
  const practical = Object.entries(grade.practical)
    .map(([d, s]) => `${ctx.t(`a_dept_${d}`)} ${s}`).join(", ");
  const rows = [
    ["grade", gradeLabel(ctx, { ...grade, type: "GradeAssigned" })],
    ["grade_score", grade.grade_score],
    ["written", grade.written],
    ["practical", practical],
    ["practical_mean", grade.practical_mean],
    ["capped_by", grade.capped_by.length ? fmt(grade.capped_by) : "—"],
    ["f_exam_session", grade.session_id],
    ["policy_version", grade.policy_version],
    ["assigned_at", when(grade.assigned_at)],
  ];
  if (grade.dispute_id) rows.push(["corrected_by_dispute", grade.dispute_id]);
  return h("dl", { class: "profile", id: "grade-details" }, rows.flatMap(([key, value]) =>
    [h("dt", {}, say(ctx, `a_${key}`)), h("dd", { dataset: { field: key } }, value)]));
}

function disputesTable(ctx, items) {
  if (!items.length) return h("p", { class: "empty", i18n: "a_no_my_disputes" }, ctx.t("a_no_my_disputes"));
  return table([
    { label: say(ctx, "a_filed_on"), key: "filed_on" },
    { label: say(ctx, "a_f_dispute_reason"), key: "reason" },
    { label: say(ctx, "status"), render: (d) => say(ctx, `a_dispute_status_${d.status}`) },
    { label: say(ctx, "a_f_outcome"), render: (d) => (d.outcome ? say(ctx, `a_outcome_${d.outcome}`) : "—") },
  ], items, null, { attrs: { id: "my-disputes" }, rowAttrs: (d) => ({ dataset: { dispute: d.dispute_id } }) });
}

export async function gradeView(ctx, section) {
  const traineeId = ctx.who().sub;
  const notices = new Notices(ctx.language);
  const body = h("div", { id: "my-grade" });
  const disputes = h("div", { id: "my-disputes-box" });
  const reason = h("textarea", { name: "reason", rows: 3, maxlength: 2000 });
  const form = h("form", { id: "dispute-form", "aria-labelledby": "dispute-title", hidden: true },
    h("h3", { id: "dispute-title", i18n: "a_dispute_title" }),
    h("p", { class: "hint", i18n: "a_dispute_intro" }),
    field("dispute-reason", "a_f_dispute_reason", reason, { required: true }),
    h("div", { class: "actions" }, h("button", { type: "submit", i18n: "a_dispute_submit" })));
  section.append(h("h2", { id: "view-title", tabindex: -1, i18n: "view_my_grade" }),
    notices.node, body, form,
    h("h3", { id: "my-disputes-title", i18n: "a_my_disputes" }), disputes);
  let shown = null; // {data, version}: the grade the person sees, and disputes

  const load = async () => {
    try {
      shown = await ctx.api.request("assessment", `/trainees/${path(traineeId)}/grade`);
    } catch (error) {
      shown = null;
      if (error.status === 404 && !error.waited) {
        body.replaceChildren(h("p", { class: "empty", id: "no-grade" }, error.detail));
      } else {
        notices.error(error);
      }
    }
    if (shown) {
      const grade = shown.data;
      body.replaceChildren(gradeDetails(ctx, grade),
        h("h3", { id: "trace-title", i18n: "a_rule_trace" }, ctx.t("a_rule_trace")),
        h("p", { class: "hint", i18n: "a_rule_trace_intro" }, ctx.t("a_rule_trace_intro")),
        h("ol", { id: "rule-trace", class: "trace", "aria-labelledby": "trace-title" },
          grade.rule_trace.map((line) => h("li", {}, line))));
    }
    form.hidden = !shown;
    try {
      disputes.replaceChildren(disputesTable(ctx, await everyPage(ctx, "/disputes")));
    } catch (error) {
      notices.error(error);
    }
  };
  const reload = async () => {
    notices.clear();
    await load();
    notices.status("a_grade_reloaded");
    reason.focus();
  };

  bindForm(form, {
    language: ctx.language,
    notices,
    read: () => ({ reason: reason.value.trim() }),
    check: (values) => (values.reason ? [] : [{ field: "reason", key: "required" }]),
    send: (values, key) => ctx.api.request("assessment", `/trainees/${path(traineeId)}/disputes`,
      { method: "POST", body: values, key, ifMatch: shown?.version }),
    done: async (answer) => {
      reason.value = "";
      await load();
      notices.status("a_dispute_filed_ok", { id: answer.data.dispute_id }, "ok");
    },
    reload,
  });
  await load();
  return null;
}

// --- the auditor's way to the audit timeline ------------------------------------------------

export function auditView(ctx, section, traineeId) {
  const input = h("input", { type: "text", name: "trainee_id", autocomplete: "off", spellcheck: "false", value: traineeId ?? "" });
  const notices = new Notices(ctx.language);
  const form = h("form", { id: "audit-form", "aria-labelledby": "view-title" },
    field("audit-trainee", "trainee_id", input, { required: true, hint: "a_hint_audit" }),
    h("div", { class: "actions" }, h("button", { type: "submit", i18n: "a_open_audit" })));
  section.append(h("h2", { id: "view-title", tabindex: -1, i18n: "view_audit" }), notices.node, form);
  form.noValidate = true;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const id = input.value.trim();
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id)) {
      input.setAttribute("aria-invalid", "true");
      notices.alert(id ? "err_id_pattern" : "required");
      input.focus();
      return;
    }
    const base = ctx.urls.assessment.replace(/\/+$/, "");
    location.assign(`${base}/dashboard?lang=${ctx.language.lang}#audit/${path(id)}`);
  });
}
