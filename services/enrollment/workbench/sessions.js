// The after-sales manager's assessment work (docs/workbench.md): exam sessions opened
// (POST /sessions) and closed (POST /sessions/{id}/close with If-Match: the version the list
// showed; R-24's trainer penalties reported), the disposition of a trainee who failed
// (POST /trainees/{id}/disposition, R-18), and the open grade disputes decided
// (GET /disputes?status=open, POST /disputes/{id}/resolve with If-Match, R-23).

import { fmt, h, table } from "../pages/dom.js";
import { Notices, bindForm, field } from "../pages/forms.js";
import { named } from "../pages/names.js";
import { subjectOf } from "./retrain.js";
import { subjectFields } from "./session-subject.js";

const PAGE = 200;
const MOST_PAGES = 25;
const SCORE = /^(100(\.0)?|[0-9]{1,2}(\.[0-9])?)$/;
export const DISPOSITIONS = ["continue_training", "reserve", "workshop"];

// Every item of a paginated assessment list (``query``: its filters), page after page.
export async function everyPage(ctx, path, query = {}) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < MOST_PAGES; page += 1) {
    const params = new URLSearchParams({ ...query, limit: String(PAGE) });
    if (cursor) params.set("cursor", cursor);
    const answer = await ctx.api.get("assessment", `${path}?${params}`);
    items.push(...answer.items);
    cursor = answer.next_cursor;
    if (!cursor) return items;
  }
  return items;
}

// A label as text that follows the language.
export const say = (ctx, key, values) => h("span", { i18n: key, i18nValues: values }, ctx.t(key, values));

// The label key of what is wrong with a score (R-17: 0 to 100, at most one decimal); null: none.
export function scoreError(text) {
  return SCORE.test(text) ? null : "err_score";
}

const path = (...parts) => parts.map(encodeURIComponent).join("/");

// --- exam sessions ------------------------------------------------------------------------

export async function sessionsView(ctx, section) {
  const notices = new Notices(ctx.language);
  const input = (name, attrs = {}) => h("input", { type: "text", name, autocomplete: "off", ...attrs });
  // R-24: for a product series or for one training content (session-subject.js).
  const subject = subjectFields(field("session-series", "a_f_product_series_one", input("product_series"), { required: true }));
  const form = h("form", { id: "open-session-form", "aria-labelledby": "open-session-title" },
    h("h3", { id: "open-session-title", i18n: "a_open_session_title" }),
    field("session-id", "a_f_session_id", input("session_id", { spellcheck: "false" }), { required: true, hint: "a_hint_session_id" }),
    subject.nodes,
    field("session-held-on", "a_f_held_on", input("held_on", { type: "date" }), { required: true }),
    h("div", { class: "actions" }, h("button", { type: "submit", i18n: "a_open_session_submit" })));
  const status = h("select", { name: "status" },
    h("option", { value: "", i18n: "a_sessions_all" }),
    h("option", { value: "open", i18n: "a_sessions_open" }),
    h("option", { value: "closed", i18n: "a_sessions_closed" }));
  const filter = h("form", { class: "filters", "aria-labelledby": "view-title" },
    field("sessions-status", "status", status), h("button", { type: "submit", i18n: "refresh" }));
  const box = h("div", { id: "sessions-table", class: "scroll" });
  section.append(h("h2", { id: "view-title", tabindex: -1, i18n: "view_sessions" }),
    notices.node, filter, box, form);
  let items = null;

  const closeForm = (row) => {
    const button = h("button", { type: "submit", i18n: "a_close_session", i18nValues: { id: row.session_id } },
      ctx.t("a_close_session", { id: row.session_id }));
    const closing = h("form", { class: "inline", "aria-label": ctx.t("a_close_session", { id: row.session_id }) }, button);
    bindForm(closing, {
      language: ctx.language,
      notices,
      read: () => ({}),
      keyOf: () => `close ${row.session_id} ${row.version}`,
      send: (_, key) => ctx.api.request("assessment", `/sessions/${path(row.session_id)}/close`,
        { method: "POST", body: {}, key, ifMatch: row.version }),
      done: async (answer) => {
        await load();
        const fines = answer.data.penalties.filter((p) => Number(p.fine) > 0).length;
        notices.status("a_session_closed_ok", { id: row.session_id, n: answer.data.penalties.length, fines }, "ok");
      },
      reload: () => load(),
    });
    return closing;
  };
  const render = () => {
    if (items === null) return;
    box.replaceChildren(items.length ? table([
      { label: say(ctx, "a_f_session_id"), render: (r) => h("a", { href: `#scoring/${path(r.session_id)}` }, r.session_id) },
      { label: say(ctx, "r_series_or_content"), render: (r) => subjectOf(ctx, r) },
      { label: say(ctx, "a_f_held_on"), key: "held_on" },
      { label: say(ctx, "status"), render: (r) => say(ctx, `a_session_${r.status}`) },
      { label: say(ctx, "a_closed_on"), render: (r) => fmt(r.closed_on) },
      { label: say(ctx, "a_actions"), render: (r) => (r.status === "open" ? closeForm(r) : "") },
    ], items, null, { attrs: { id: "sessions" }, rowAttrs: (r) => ({ dataset: { session: r.session_id } }) })
      : h("p", { class: "empty", i18n: "a_no_sessions" }, ctx.t("a_no_sessions")));
  };
  const load = async () => {
    try {
      items = await everyPage(ctx, "/sessions", status.value ? { status: status.value } : {});
    } catch (error) {
      notices.error(error);
    }
    render();
  };
  filter.addEventListener("submit", (event) => {
    event.preventDefault();
    notices.clear();
    load();
  });
  status.addEventListener("change", () => load());

  bindForm(form, {
    language: ctx.language,
    notices,
    read: (f) => ({ ...Object.fromEntries(["session_id", "held_on"]
      .map((name) => [name, f.elements[name].value.trim()])), ...subject.read(f) }),
    check: (body) => {
      const errors = Object.entries(body).filter(([, v]) => !v).map(([name]) => ({ field: name, key: "required" }));
      if (body.session_id && !/^[A-Za-z0-9_.-]{1,64}$/.test(body.session_id)) errors.push({ field: "session_id", key: "err_id_pattern" });
      return errors;
    },
    send: (body, key) => ctx.api.request("assessment", "/sessions", { method: "POST", body, key }),
    done: async (answer) => {
      const { session_id: id, product_series: series, content } = answer.data;
      if (content) notices.status("r_session_opened_content", { id, content: ctx.t(`r_content_${content}`) }, "ok");
      else notices.status("a_session_opened", { id, series }, "ok");
      for (const name of ["session_id", "product_series", "content"]) form.elements[name].value = "";
      await load();
    },
  });
  await load();
  return { relabel: render };
}

// --- what becomes of a trainee who failed (R-18) -------------------------------------------

export function dispositionView(ctx, section, traineeId) {
  const notices = new Notices(ctx.language);
  const outcome = h("select", { name: "outcome" }, h("option", { value: "", i18n: "choose" }),
    DISPOSITIONS.map((d) => h("option", { value: d, i18n: `a_disposition_${d}` })));
  const form = h("form", { id: "disposition-form", "aria-labelledby": "view-title" },
    field("disposition-trainee", "trainee_id", h("input", { type: "text", name: "trainee_id", autocomplete: "off", value: traineeId ?? "" }), { required: true }),
    field("disposition-session", "a_f_session_optional", h("input", { type: "text", name: "session_id", autocomplete: "off" }), { hint: "a_hint_disposition_session" }),
    field("disposition-outcome", "a_f_disposition", outcome, { required: true }),
    field("disposition-reason", "a_f_disposition_reason", h("textarea", { name: "reason", rows: 3, maxlength: 2000 }), { required: true, hint: "a_hint_disposition_reason" }),
    h("div", { class: "actions" }, h("button", { type: "submit", i18n: "a_disposition_submit" })));
  section.append(h("h2", { id: "view-title", tabindex: -1, i18n: "view_disposition" }),
    h("p", { class: "hint", i18n: "a_disposition_intro" }), notices.node, form);

  bindForm(form, {
    language: ctx.language,
    notices,
    read: (f) => Object.fromEntries(["trainee_id", "session_id", "outcome", "reason"]
      .map((name) => [name, f.elements[name].value.trim()])),
    check: (v) => ["trainee_id", "outcome", "reason"].filter((name) => !v[name]).map((name) => ({ field: name, key: "required" })),
    send: ({ trainee_id: id, ...values }, key) => {
      const body = { outcome: values.outcome, reason: values.reason };
      if (values.session_id) body.session_id = values.session_id;
      return ctx.api.request("assessment", `/trainees/${path(id)}/disposition`, { method: "POST", body, key });
    },
    done: (answer) => {
      const d = answer.data;
      notices.status("a_disposition_recorded",
        { id: d.trainee_id, session: d.session_id, outcome: { key: `a_disposition_${d.outcome}` } }, "ok");
      form.reset();
    },
  });
}

// --- grade disputes (R-23) -----------------------------------------------------------------

function disputedGrade(ctx, grade) {
  if (!grade) return h("p", { class: "empty", i18n: "a_no_disputed_grade" });
  const practical = Object.entries(grade.practical).map(([d, s]) => `${ctx.t(`a_dept_${d}`)} ${s}`).join(", ");
  return h("dl", { class: "profile" },
    h("dt", {}, say(ctx, "a_grade")), h("dd", { dataset: { field: "grade" } }, gradeLabel(ctx, grade)),
    h("dt", {}, say(ctx, "a_written")), h("dd", { dataset: { field: "written" } }, grade.written),
    h("dt", {}, say(ctx, "a_practical")), h("dd", { dataset: { field: "practical" } }, practical));
}

// "Engineer, intermediate (95.5)", or "Failed (written)" for a failed assessment: a label that
// follows the language.
export function gradeLabel(ctx, grade) {
  if (grade.type === "AssessmentFailed") {
    const failed = grade.failed_exams ?? [];
    const exams = { key: failed.length === 1 ? `a_${failed[0]}` : "a_both_exams" };
    return say(ctx, "a_decision_failed", { exams });
  }
  if (!grade.position) return say(ctx, "a_decision_no_position", { score: grade.grade_score });
  return say(ctx, "a_decision_grade", {
    position: { key: `position_${grade.position}` }, level: { key: `a_level_${grade.level}` }, score: grade.grade_score,
  });
}

function resolveForm(ctx, notices, dispute, departments, reload) {
  const id = dispute.dispute_id;
  const name = (suffix) => `${id}-${suffix}`;
  const outcome = h("select", { name: "outcome" },
    h("option", { value: "upheld", i18n: "a_outcome_upheld" }), h("option", { value: "corrected", i18n: "a_outcome_corrected" }));
  const scores = h("fieldset", { class: "corrected", hidden: true },
    h("legend", { i18n: "a_corrected_scores" }),
    field(name("written"), "a_written", h("input", { type: "text", name: "written", inputmode: "decimal", autocomplete: "off" })),
    departments.map((d) => field(name(d), `a_dept_${d}`, h("input", { type: "text", name: `practical_${d}`, inputmode: "decimal", autocomplete: "off" }))));
  const form = h("form", { class: "resolve", "aria-label": ctx.t("a_resolve_of", { name: dispute.trainee_name }) },
    field(name("outcome"), "a_f_outcome", outcome), scores,
    h("div", { class: "actions" }, h("button", { type: "submit", i18n: "a_resolve_submit" })));
  outcome.addEventListener("change", () => {
    scores.hidden = outcome.value !== "corrected";
  });
  bindForm(form, {
    language: ctx.language,
    notices,
    read: (f) => {
      const body = { outcome: f.elements.outcome.value };
      if (body.outcome !== "corrected") return body;
      const written = f.elements.written.value.trim();
      if (written) body.written = written;
      const practical = Object.fromEntries(departments
        .map((d) => [d, f.elements[`practical_${d}`].value.trim()]).filter(([, s]) => s));
      if (Object.keys(practical).length) body.practical = practical;
      return body;
    },
    check: (body) => {
      const errors = [];
      if (body.written !== undefined && scoreError(body.written)) errors.push({ field: "written", key: "a_err_score" });
      for (const [d, s] of Object.entries(body.practical ?? {})) {
        if (scoreError(s)) errors.push({ field: `practical_${d}`, key: "a_err_score" });
      }
      if (body.outcome === "corrected" && body.written === undefined && !body.practical) errors.push({ field: "written", key: "a_err_correct_something" });
      return errors;
    },
    send: (body, key) => ctx.api.request("assessment", `/disputes/${path(id)}/resolve`,
      { method: "POST", body, key, ifMatch: dispute.version }),
    done: async (answer) => {
      const grade = answer.data.grade;
      await reload();
      notices.status("a_dispute_resolved", {
        name: dispute.trainee_name, outcome: { key: `a_outcome_${answer.data.outcome}` },
        grade: grade ? gradeLabel(ctx, grade).textContent : "—",
      }, "ok");
    },
    reload,
  });
  return form;
}

export async function disputesView(ctx, section) {
  const notices = new Notices(ctx.language);
  const list = h("div", { id: "disputes" });
  const refresh = h("button", { type: "button", i18n: "refresh" });
  section.append(h("h2", { id: "view-title", tabindex: -1, i18n: "view_disputes" }),
    h("p", { class: "hint", i18n: "a_disputes_intro" }), refresh, notices.node, list);
  const departments = ["technical", "process_engineering", "quality", "after_sales", "production"];
  let items = null;

  const render = () => {
    if (items === null) return;
    list.replaceChildren(...(items.length ? items.map((d) => h("article", {
      class: "panel dispute", dataset: { dispute: d.dispute_id }, "aria-labelledby": `${d.dispute_id}-title`,
    },
    h("h3", { id: `${d.dispute_id}-title` }, named(d.trainee_name, d.trainee_id)),
    h("p", {}, say(ctx, "a_dispute_filed", { on: d.filed_on, session: d.session_id ?? "—" })),
    h("blockquote", { class: "reason" }, d.reason),
    disputedGrade(ctx, d.disputed),
    resolveForm(ctx, notices, d, Object.keys(d.disputed?.practical ?? {}).length
      ? Object.keys(d.disputed.practical) : departments, load)))
      : [h("p", { class: "empty", i18n: "a_no_disputes" }, ctx.t("a_no_disputes"))]));
    ctx.language.apply(list);
  };
  const load = async () => {
    try {
      items = await everyPage(ctx, "/disputes", { status: "open" });
    } catch (error) {
      notices.error(error);
    }
    render();
  };
  refresh.addEventListener("click", () => {
    notices.clear();
    load();
  });
  await load();
  return { relabel: render };
}
