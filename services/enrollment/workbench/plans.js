// The managers' placement and plans and the executive vice-president's approvals
// (docs/workbench.md):
//
// - #placement: the trainees to place and plan (enrollment GET /trainees, every page, beside
//   training GET /plans), #placement/<id>: the placement exam (POST /trainees/{id}/placement
//   with If-Match: the version the page showed), R-6;
// - #plans: the plans (GET /plans), #plans/<id>: the plan table 培训计划表 and its (re-)draft
//   (PUT /plans/{id}, If-Match when re-drafting), trainers by name from GET /staff, R-8; the
//   page refuses a draft missing a mandatory topic (R-8a, the check the service makes when the
//   plan is approved, services/training/domain/drafting.py: missing_topics) before sending it;
// - #approvals: the plans awaiting approval (GET /plans?status=draft), each as its plan table
//   (GET /plans/{id}), approved in one action (POST /plans/{id}/approve with If-Match), R-9.
//
// A 412 says someone else changed the record and offers to reload (forms.js).

import { fmt, h, show, table, when } from "../pages/dom.js";
import { ApiError } from "../pages/api.js";
import { Notices, bindForm, field, fieldName, showFieldErrors } from "../pages/forms.js";
import {
  coversColumn, coversField, keptStages, loadLevelItems, remedialMark, remedialMode, showCovers,
} from "./plan-content.js";

// services/training/domain/vocabulary.py (Topic, MANDATORY_TOPICS) and shared/departments.py.
export const TOPICS = [
  "company_processes", "department_responsibilities", "travel_policy", "appraisal_rules", "product", "other",
];
export const MANDATORY_TOPICS = TOPICS.slice(0, 4);
export const DEPARTMENTS = [
  "technical", "process_engineering", "system", "after_sales", "hr", "production", "quality",
];
const SCORE = /^(100(\.0)?|[0-9]{1,2}(\.[0-9])?)$/; // shared/requests.py: Score
const PAGE = 200;
const MOST_PAGES = 25;

// R-8a: the mandatory topics no stage covers, in the regulation's order (drafting.py).
export function missingTopics(stages) {
  const covered = new Set(stages.map((s) => s.topic));
  return MANDATORY_TOPICS.filter((topic) => !covered.has(topic));
}

// Every page of a list answered as {items, next_cursor}.
export async function everyPage(ctx, service, path, params = {}) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < MOST_PAGES; page += 1) {
    const query = new URLSearchParams({ ...params, limit: String(PAGE) });
    if (cursor) query.set("cursor", cursor);
    const answer = await ctx.api.get(service, `${path}?${query}`);
    items.push(...answer.items);
    cursor = answer.next_cursor;
    if (!cursor) break;
  }
  return items;
}

const label = (ctx, key, values) => h("span", { i18n: key, i18nValues: values }, ctx.t(key, values));
const title = (ctx, key, values) => h("h2", { id: "view-title", tabindex: -1, i18n: key, i18nValues: values },
  ctx.t(key, values));
const back = (ctx, href, key) => h("p", {}, h("a", { href, i18n: key }, ctx.t(key)));
const path = (id) => encodeURIComponent(id);
const options = (ctx, values, prefix, { empty = true } = {}) => [
  empty ? h("option", { value: "", i18n: "choose" }, ctx.t("choose")) : null,
  ...values.map((value) => h("option", { value, i18n: `${prefix}${value}` }, ctx.t(`${prefix}${value}`))),
];

// A label for a control of a table row, read by screen readers and tests, not shown.
function cellField(ctx, id, key, n, control) {
  control.id = id;
  control.name = id;
  control.setAttribute("aria-describedby", `${id}-error`);
  return h("div", { class: "field cell", dataset: { field: id } },
    h("label", { for: id, class: "visually-hidden", i18n: key, i18nValues: { n } }, ctx.t(key, { n })),
    control, h("p", { class: "field-error", id: `${id}-error`, hidden: true }));
}

// The plan table 培训计划表 as the regulation lays it out (services/training/export.py's
// columns): 序号, 受训内容 (with its topic and product series), 培训部门/人, 计划培训时间.
export function planTable(ctx, plan, attrs = {}) {
  return table([
    { label: label(ctx, "col_no"), key: "no", numeric: true },
    { label: label(ctx, "col_content"), key: "content" },
    { label: label(ctx, "col_topic"), render: (s) => label(ctx, `topic_${s.topic}`) },
    { label: label(ctx, "col_series"), key: "product_series" },
    coversColumn(ctx),
    {
      label: label(ctx, "col_dept_trainer"),
      render: (s) => [label(ctx, `dept_${s.department}`), " / ", s.trainer_name || s.trainer_id],
    },
    {
      label: label(ctx, "col_planned"),
      render: (s) => label(ctx, "planned_range", { start: s.planned_start, end: s.planned_end }),
    },
    { label: label(ctx, "col_stage_status"), render: (s) => label(ctx, `stage_${s.status}`) },
  ], plan.stages, null, { attrs: { class: "plan-table", ...attrs }, rowAttrs: (s) => ({ dataset: { stage: s.no } }) });
}

// --- the trainees to place and plan -----------------------------------------------------------

export function placementView(ctx, section, traineeId) {
  return traineeId ? placementForm(ctx, section, traineeId) : waitingList(ctx, section);
}

async function waitingList(ctx, section) {
  const notices = new Notices(ctx.language);
  const refresh = h("button", { type: "button", i18n: "refresh" }, ctx.t("refresh"));
  const box = h("div", { id: "waiting-table", class: "scroll" });
  section.append(title(ctx, "placement_title"),
    h("p", { class: "hint", i18n: "placement_intro" }, ctx.t("placement_intro")),
    h("div", { class: "filters" }, refresh), notices.node, box);
  let rows = null;

  const nextStep = (r) => {
    if (r.status === "enrolled") {
      return h("a", { href: `#placement/${path(r.trainee_id)}`, i18n: "next_place", i18nValues: { name: r.name } });
    }
    const key = r.plan ? "next_redraft" : "next_plan";
    return h("a", { href: `#plans/${path(r.trainee_id)}`, i18n: key, i18nValues: { name: r.name } });
  };
  const render = async () => {
    if (rows === null) return;
    const names = new Map(await Promise.all([...new Set(rows.map((r) => r.branch_id))]
      .map(async (id) => [id, await ctx.branches.name(id)])));
    box.replaceChildren(rows.length ? table([
      { label: label(ctx, "f_name"), key: "name" },
      { label: label(ctx, "trainee_id"), key: "trainee_id" },
      { label: label(ctx, "f_branch"), render: (r) => names.get(r.branch_id) },
      { label: label(ctx, "f_category"), render: (r) => label(ctx, `cat_${r.category}`) },
      { label: label(ctx, "status"), render: (r) => label(ctx, `status_${r.status}`) },
      { label: label(ctx, "col_plan"), render: (r) => label(ctx, r.plan ? `plan_status_${r.plan.status}` : "no_plan") },
      { label: label(ctx, "col_next"), render: nextStep },
    ], rows, null, { attrs: { id: "waiting-trainees" }, rowAttrs: (r) => ({ dataset: { trainee: r.trainee_id } }) })
      : h("p", { class: "empty", i18n: "no_waiting" }, ctx.t("no_waiting")));
    ctx.language.apply(box);
  };
  const load = async () => {
    notices.clear();
    notices.status("loading");
    try {
      const [trainees, plans] = await Promise.all([
        everyPage(ctx, "enrollment", "/trainees"), everyPage(ctx, "training", "/plans")]);
      const byTrainee = new Map(plans.map((p) => [p.trainee_id, p]));
      rows = trainees.map((t) => ({ ...t, plan: byTrainee.get(t.trainee_id) ?? null }))
        .filter((r) => r.status !== "withdrawn" && r.plan?.status !== "approved" && r.plan?.status !== "completed");
      notices.status("waiting_count", { n: rows.length });
    } catch (error) {
      notices.error(error);
    }
    await render();
  };
  refresh.addEventListener("click", load);
  await load();
  return { relabel: render };
}

function placementLine(ctx, trainee) {
  const p = trainee.placement;
  return h("p", { class: "message ok", id: "placement-result" }, label(ctx, "already_placed", {
    position: { key: `position_${trainee.position}` },
    level: { key: `level_${trainee.plan_level}` },
    average: p ? p.average : "—",
  }));
}

async function placementForm(ctx, section, traineeId) {
  const notices = new Notices(ctx.language);
  const body = h("div");
  const written = h("input", { type: "text", inputmode: "decimal", autocomplete: "off" });
  const practical = h("input", { type: "text", inputmode: "decimal", autocomplete: "off" });
  const form = h("form", { id: "placement-form", "aria-labelledby": "placement-form-title" },
    h("h3", { id: "placement-form-title", i18n: "placement_form" }, ctx.t("placement_form")),
    field("written", "f_written", written, { hint: "hint_score", required: true }),
    field("practical", "f_practical", practical, { hint: "hint_score" }),
    h("div", { class: "actions" },
      h("button", { type: "submit", i18n: "placement_submit" }, ctx.t("placement_submit"))));
  section.append(back(ctx, "#placement", "back_to_waiting"), body, notices.node);
  let shown = null; // {data, version}: the trainee the placement is decided on

  const render = () => {
    const trainee = shown.data;
    show(body,
      title(ctx, "placement_of", { name: trainee.name }),
      h("dl", { class: "profile", id: "trainee-profile" },
        h("dt", {}, label(ctx, "trainee_id")), h("dd", {}, trainee.trainee_id),
        h("dt", {}, label(ctx, "f_category")), h("dd", {}, label(ctx, `cat_${trainee.category}`)),
        h("dt", {}, label(ctx, "status")), h("dd", {}, label(ctx, `status_${trainee.status}`))),
      trainee.status === "enrolled" ? form : null,
      trainee.status === "placed" ? placementLine(ctx, trainee) : null,
      trainee.status === "placed" ? h("p", {}, h("a", { href: `#plans/${path(trainee.trainee_id)}`,
        i18n: "next_plan", i18nValues: { name: trainee.name } }, ctx.t("next_plan", { name: trainee.name }))) : null);
    ctx.language.apply(body);
  };
  const load = async () => {
    try {
      shown = await ctx.api.request("enrollment", `/trainees/${path(traineeId)}`);
      render();
    } catch (error) {
      body.replaceChildren(h("h2", { id: "view-title", tabindex: -1 }, traineeId));
      notices.error(error);
    }
  };
  bindForm(form, {
    language: ctx.language,
    notices,
    read: () => ({ written: written.value.trim(), practical: practical.value.trim() }),
    check: (values) => [
      ...(!values.written ? [{ field: "written", key: "required" }] : []),
      ...(values.written && !SCORE.test(values.written) ? [{ field: "written", key: "err_score" }] : []),
      ...(values.practical && !SCORE.test(values.practical) ? [{ field: "practical", key: "err_score" }] : []),
    ],
    send: (values, key) => ctx.api.request("enrollment", `/trainees/${path(traineeId)}/placement`, {
      method: "POST",
      body: values.practical ? values : { written: values.written },
      key,
      ifMatch: shown.version,
    }),
    done: async (answer) => {
      const placed = answer.data;
      await load();
      notices.status("placed", {
        name: shown.data.name,
        position: { key: `position_${placed.position}` },
        level: { key: `level_${placed.plan_level}` },
        average: placed.average,
      }, "ok");
      body.querySelector("h2")?.focus();
    },
    reload: async () => {
      notices.clear();
      await load();
      if (shown) notices.status("placement_reloaded", { version: shown.version });
    },
  });
  await load();
  return { relabel: () => (shown ? render() : null) };
}

// --- the plans and their drafts -----------------------------------------------------------------

export function plansView(ctx, section, traineeId) {
  return traineeId ? planEditor(ctx, section, traineeId) : planList(ctx, section);
}

async function planList(ctx, section) {
  const notices = new Notices(ctx.language);
  const refresh = h("button", { type: "button", i18n: "refresh" }, ctx.t("refresh"));
  const wanted = h("input", { type: "text", autocomplete: "off", spellcheck: "false" });
  const open = h("form", { id: "open-plan", class: "filters", "aria-labelledby": "open-plan-title" },
    h("h3", { id: "open-plan-title", class: "visually-hidden", i18n: "open_plan_form" }, ctx.t("open_plan_form")),
    field("open-trainee", "f_open_trainee", wanted),
    h("button", { type: "submit", i18n: "open_plan" }, ctx.t("open_plan")));
  const box = h("div", { id: "plans-table", class: "scroll" });
  section.append(title(ctx, "plans_title"), open, h("div", { class: "filters" }, refresh), notices.node, box);
  let items = null;

  const render = () => {
    if (items === null) return;
    box.replaceChildren(items.length ? table([
      { label: label(ctx, "f_name"), render: (p) => h("a", { href: `#plans/${path(p.trainee_id)}` }, p.trainee_name) },
      { label: label(ctx, "trainee_id"), key: "trainee_id" },
      { label: label(ctx, "status"), render: (p) => label(ctx, `plan_status_${p.status}`) },
      { label: label(ctx, "col_revision"), key: "revision", numeric: true },
      { label: label(ctx, "col_drafted"), render: (p) => label(ctx, "drafted_by_at", { who: p.drafted_by, at: when(p.drafted_at) }) },
    ], items, null, { attrs: { id: "plans" }, rowAttrs: (p) => ({ dataset: { trainee: p.trainee_id } }) })
      : h("p", { class: "empty", i18n: "no_plans" }, ctx.t("no_plans")));
  };
  const load = async () => {
    notices.clear();
    notices.status("loading");
    try {
      items = await everyPage(ctx, "training", "/plans");
      notices.status("plans_count", { n: items.length });
    } catch (error) {
      notices.error(error);
    }
    render();
  };
  open.addEventListener("submit", (event) => {
    event.preventDefault();
    if (wanted.value.trim()) ctx.navigate(`plans/${path(wanted.value.trim())}`);
  });
  refresh.addEventListener("click", load);
  await load();
  return { relabel: render };
}

// What the editor's rows hold, read from their controls.
function readStages(rows) {
  return rows.map((row, i) => {
    const value = (name) => row.controls[name].value.trim();
    return {
      no: i + 1,
      content: value("content"),
      topic: value("topic"),
      department: value("department"),
      trainer_id: value("trainer_id"),
      product_series: value("product_series") || null,
      covers: row.covers.read(),
      planned_start: value("planned_start"),
      planned_end: value("planned_end"),
    };
  });
}

// StageBody's checks (services/training/schemas.py) and R-8's (drafting.py: checked_stages).
function checkStages(stages) {
  const errors = [];
  stages.forEach((s) => {
    for (const name of ["content", "topic", "department", "trainer_id", "planned_start", "planned_end"]) {
      if (!s[name]) errors.push({ field: `s${s.no}-${name}`, key: "required" });
    }
    if (s.content.length > 500) errors.push({ field: `s${s.no}-content`, key: "err_too_long" });
    if ((s.product_series ?? "").length > 100) errors.push({ field: `s${s.no}-product_series`, key: "err_too_long" });
    if (s.planned_start && s.planned_end && s.planned_end < s.planned_start) {
      errors.push({ field: `s${s.no}-planned_end`, key: "err_dates" });
    }
  });
  return errors;
}

// A problem's field ("stages[1].content", "body.stages.1.content") as the row's control's name.
function stageField(path) {
  const match = /stages(?:\[(\d+)\]|\.(\d+))\.(\w+)/.exec(String(path ?? ""));
  return match ? `s${Number(match[1] ?? match[2]) + 1}-${match[3]}` : fieldName(path);
}

async function planEditor(ctx, section, traineeId) {
  const notices = new Notices(ctx.language);
  const head = h("div");
  const current = h("div", { id: "plan-current" });
  const tbody = h("tbody");
  const topicsLine = h("p", { class: "message info", id: "plan-topics", role: "status" });
  const coversLine = h("p", { class: "message info", id: "plan-covers", role: "status" });
  const formIntro = h("p", { class: "hint", i18n: "draft_intro" }, ctx.t("draft_intro"));
  const addStage = h("button", { type: "button", i18n: "add_stage" }, ctx.t("add_stage"));
  const formTitle = h("h3", { id: "plan-form-title" });
  const form = h("form", { id: "plan-form", "aria-labelledby": "plan-form-title" },
    formTitle, formIntro,
    h("div", { class: "scroll" }, h("table", { class: "stages-editor" },
      h("caption", { class: "visually-hidden", i18n: "stages_caption" }, ctx.t("stages_caption")),
      h("thead", {}, h("tr", {}, ["col_no", "col_content", "col_topic", "col_dept_trainer", "col_series",
        "col_covers", "col_planned", "col_actions"].map((key) => h("th", { scope: "col" }, label(ctx, key))))),
      tbody)),
    h("div", { class: "actions" }, addStage), topicsLine, coversLine,
    h("div", { class: "actions" }, h("button", { type: "submit", i18n: "draft_submit" }, ctx.t("draft_submit"))));
  section.append(back(ctx, "#plans", "back_to_plans"), head, current, form, notices.node);
  let trainee = null; // the trainee's profile (enrollment)
  let plan = null; // {data, version}: the plan the re-draft is decided on; null: none yet
  let trainers = []; // active trainers (enrollment's staff)
  let rows = []; // [{node, controls, covers}]
  const level = () => trainee?.plan_level ?? plan?.data.plan_level ?? null; // R-6, for R-7

  const trainerOptions = (chosen) => {
    const known = trainers.some((s) => s.staff_id === chosen.id);
    return [h("option", { value: "", i18n: "choose" }, ctx.t("choose")),
      ...trainers.map((s) => h("option", { value: s.staff_id }, s.name)),
      chosen.id && !known ? h("option", { value: chosen.id }, chosen.name || chosen.id) : null];
  };
  const renumber = () => {
    rows.forEach((row, i) => {
      const n = i + 1;
      row.number.textContent = String(n);
      for (const node of row.node.querySelectorAll("[data-i18n-values]:not(.covers *)")) node.dataset.i18nValues = JSON.stringify({ n });
      row.covers.renumber(n);
      for (const [name, control] of Object.entries(row.controls)) {
        const id = `s${n}-${name}`;
        control.id = id;
        control.name = id;
        control.setAttribute("aria-describedby", `${id}-error`);
        const box = control.closest(".field");
        box.dataset.field = id;
        box.querySelector("label").htmlFor = id;
        box.querySelector(".field-error").id = `${id}-error`;
      }
    });
    ctx.language.apply(tbody);
  };
  const showTopics = () => {
    const missing = missingTopics(readStages(rows));
    const topics = missing.map((topic) => ctx.t(`topic_${topic}`)).join(ctx.language.lang === "zh" ? "、" : ", ");
    const key = missing.length ? "topics_missing" : "topics_covered";
    topicsLine.className = `message ${missing.length ? "error" : "ok"}`;
    topicsLine.dataset.i18n = key;
    topicsLine.dataset.i18nValues = JSON.stringify({ topics });
    topicsLine.textContent = ctx.t(key, { topics });
    if (!missing.length && notices.alertLine.dataset.i18n === "err_topics_missing") notices.clear();
    const items = showCovers(ctx, coversLine, readStages(rows), level());
    if (!items && notices.alertLine.dataset.i18n === "err_covers_missing") notices.clear();
    return topics;
  };
  const addRow = (stage = {}, { locked = false } = {}) => {
    const n = rows.length + 1;
    const controls = {
      content: h("input", { type: "text", maxlength: 500, autocomplete: "off" }),
      topic: h("select", {}, options(ctx, TOPICS, "topic_")),
      department: h("select", {}, options(ctx, DEPARTMENTS, "dept_")),
      trainer_id: h("select", {}, trainerOptions({ id: stage.trainer_id, name: stage.trainer_name })),
      product_series: h("input", { type: "text", maxlength: 100, autocomplete: "off" }),
      planned_start: h("input", { type: "date" }),
      planned_end: h("input", { type: "date" }),
    };
    for (const [name, control] of Object.entries(controls)) control.value = stage[name] ?? "";
    controls.trainer_id.addEventListener("change", () => {
      const chosen = trainers.find((s) => s.staff_id === controls.trainer_id.value);
      if (chosen && !controls.department.value) controls.department.value = chosen.department;
    });
    controls.topic.addEventListener("change", showTopics);
    const keys = { content: "f_stage_content", topic: "f_stage_topic", department: "f_stage_department",
      trainer_id: "f_stage_trainer", product_series: "f_stage_series", planned_start: "f_stage_start",
      planned_end: "f_stage_end" };
    const cell = (...names) => h("td", {}, names.map((name) => cellField(ctx, `s${n}-${name}`, keys[name], n, controls[name])));
    const number = h("span", {}, String(n));
    const covers = coversField(ctx, n, stage, level(), { locked, onChange: showTopics });
    const row = { controls, number, covers };
    const remove = h("button", { type: "button", i18n: "remove_stage", i18nValues: { n } },
      ctx.t("remove_stage", { n }));
    // R-18a: a completed stage of a remedial revision is kept as it was signed.
    for (const control of locked ? Object.values(controls) : []) control.disabled = true;
    const action = locked ? label(ctx, "remedial_kept", { n }) : remove;
    row.node = h("tr", {}, h("th", { scope: "row" }, number), cell("content"), cell("topic"),
      cell("department", "trainer_id"), cell("product_series"), h("td", {}, covers.node),
      cell("planned_start", "planned_end"), h("td", {}, action));
    remove.addEventListener("click", () => {
      rows = rows.filter((r) => r !== row);
      row.node.remove();
      renumber();
      showTopics();
      (rows[0]?.controls.content ?? addStage).focus();
    });
    rows.push(row);
    tbody.append(row.node);
    return row;
  };
  const fill = () => {
    tbody.replaceChildren();
    rows = [];
    // A new plan starts from the four mandatory topics (R-8a); a re-draft from the plan.
    const stages = plan ? plan.data.stages : MANDATORY_TOPICS.map((topic) => ({ topic }));
    const kept = keptStages(plan?.data);
    stages.forEach((stage) => addRow(stage, { locked: kept.has(stage.no) }));
    if (plan?.data.status === "completed" && remedialMode(plan.data) === "remedial") addRow();
    showTopics();
  };
  const render = () => {
    const name = trainee?.name ?? plan?.data.trainee_name ?? traineeId;
    const facts = trainee ? h("dl", { class: "profile", id: "trainee-profile" },
      h("dt", {}, label(ctx, "trainee_id")), h("dd", {}, trainee.trainee_id),
      h("dt", {}, label(ctx, "f_category")), h("dd", {}, label(ctx, `cat_${trainee.category}`)),
      h("dt", {}, label(ctx, "status")), h("dd", {}, label(ctx, `status_${trainee.status}`)),
      trainee.position ? [h("dt", {}, label(ctx, "position")), h("dd", {}, label(ctx, `position_${trainee.position}`))] : null,
      trainee.plan_level ? [h("dt", {}, label(ctx, "plan_level")), h("dd", {}, label(ctx, `level_${trainee.plan_level}`))] : null)
      : null;
    show(head, title(ctx, "plan_of", { name }), facts);
    current.replaceChildren(plan
      ? h("section", { "aria-labelledby": "plan-current-title" },
        h("h3", { id: "plan-current-title", tabindex: -1 }, label(ctx, "plan_as_it_stands", {
          revision: plan.data.revision, status: { key: `plan_status_${plan.data.status}` } })),
        plan.data.remedial_due ? h("p", { class: "message info" }, label(ctx, "remedial_due_mark")) : null,
        remedialMark(ctx, plan.data),
        planTable(ctx, plan.data, { id: "plan-table" }),
        remedialMode(plan.data) === "closed" ? h("p", { class: "hint" }, label(ctx, "remedial_closed")) : null)
      : h("p", { class: "empty", i18n: "plan_none" }, ctx.t("plan_none")));
    const mode = remedialMode(plan?.data);
    const key = mode === "remedial" ? "remedial_title" : plan ? "redraft_title" : "draft_title";
    formTitle.dataset.i18n = key;
    formTitle.textContent = ctx.t(key);
    const intro = mode === "remedial" ? "remedial_intro" : "draft_intro";
    formIntro.dataset.i18n = intro;
    formIntro.textContent = ctx.t(intro);
    form.hidden = mode === "closed";
  };
  const readPlan = async () => {
    try {
      plan = await ctx.api.request("training", `/plans/${path(traineeId)}`);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404 || error.waited) throw error;
      plan = null; // none drafted yet
    }
  };
  const load = async () => {
    try {
      const [profile, staff] = await Promise.all([
        ctx.api.get("enrollment", `/trainees/${path(traineeId)}`),
        everyPage(ctx, "enrollment", "/staff", { role: "trainer", status: "active" }),
        readPlan(),
        loadLevelItems(ctx),
      ]);
      trainee = profile;
      trainers = staff.sort((a, b) => a.name.localeCompare(b.name, ctx.language.lang));
      render();
      fill();
      if (!trainers.length) notices.alert("err_no_trainers");
      return true;
    } catch (error) {
      head.replaceChildren(h("h2", { id: "view-title", tabindex: -1 }, traineeId));
      form.hidden = true;
      notices.error(error);
      return false;
    }
  };

  addStage.addEventListener("click", () => {
    const row = addRow();
    showTopics();
    row.controls.content.focus();
  });
  // R-8a and R-7 before anything is sent: a plan missing a mandatory topic or an item of the
  // trainee's level could not be approved.
  form.addEventListener("submit", (event) => {
    const stages = readStages(rows);
    const missing = missingTopics(stages);
    const items = showCovers(ctx, coversLine, stages, level());
    if ((!missing.length && !items) || form.getAttribute("aria-busy") === "true") return;
    event.preventDefault();
    event.stopImmediatePropagation();
    notices.clear();
    if (missing.length) notices.alert("err_topics_missing", { topics: showTopics() });
    else notices.alert("err_covers_missing", { items, level: { key: `level_${level()}` } });
  });
  bindForm(form, {
    language: ctx.language,
    notices,
    read: () => ({ stages: readStages(rows) }),
    check: (values) => checkStages(values.stages),
    send: (values, key) => ctx.api.request("training", `/plans/${path(traineeId)}`,
      { method: "PUT", body: values, key, ifMatch: plan?.version }),
    done: async (answer) => {
      const before = plan?.data.revision;
      await readPlan();
      render();
      fill();
      const { revision } = answer.data;
      const same = before === revision;
      notices.status(same ? "drafted_same" : "drafted", { name: trainee.name, revision }, "ok");
      current.querySelector("h3")?.focus();
    },
    failed: (error) => {
      if (!(error instanceof ApiError) || error.status !== 422 || !error.errors.length) return false;
      const errors = error.errors.map((e) => ({ ...e, field: stageField(e.field) }));
      const { marked, unplaced } = showFieldErrors(form, errors, ctx.language);
      notices.error(error, { fields: unplaced.length ? [] : marked });
      return true;
    },
    reload: async () => {
      notices.clear();
      if (await load()) notices.status("plan_reloaded", { version: plan?.version ?? 0 });
    },
  });
  await load();
  return { relabel: () => (trainee ? (render(), showTopics()) : null) };
}

// --- the executive vice-president's approvals ----------------------------------------------

export async function approvalsView(ctx, section) {
  const notices = new Notices(ctx.language);
  const refresh = h("button", { type: "button", i18n: "refresh" }, ctx.t("refresh"));
  const list = h("div", { id: "approvals" });
  section.append(title(ctx, "approvals_title"),
    h("p", { class: "hint", i18n: "approvals_intro" }, ctx.t("approvals_intro")),
    h("div", { class: "filters" }, refresh), notices.node, list);

  const load = async () => {
    notices.clear();
    notices.status("loading");
    try {
      const waiting = (await everyPage(ctx, "training", "/plans", { status: "draft" }))
        .filter((p) => p.trainee_status !== "withdrawn");
      const cards = await Promise.all(waiting.map((item) => approvalCard(ctx, item)));
      list.replaceChildren(...(cards.length ? cards
        : [h("p", { class: "empty", i18n: "no_approvals" }, ctx.t("no_approvals"))]));
      notices.status("approvals_count", { n: cards.length });
    } catch (error) {
      notices.error(error);
    }
  };
  refresh.addEventListener("click", load);
  await load();
}

// One plan awaiting approval: its plan table, as read from its own stream (never stale), and
// the approval, decided on the version shown.
async function approvalCard(ctx, item) {
  const notices = new Notices(ctx.language);
  const body = h("div");
  const headingId = `approve-${item.trainee_id}-title`;
  const card = h("article", { class: "approval", "aria-labelledby": headingId, dataset: { trainee: item.trainee_id } },
    body, notices.node);
  let shown = null;

  const render = () => {
    const plan = shown.data;
    const name = plan.trainee_name;
    const form = h("form", { class: "actions", "aria-labelledby": headingId });
    show(body,
      h("h3", { id: headingId, tabindex: -1 }, label(ctx, "plan_heading", { name, id: plan.trainee_id, revision: plan.revision })),
      h("p", { class: "hint" }, label(ctx, "drafted_line", { who: item.drafted_by, at: when(item.drafted_at) })),
      remedialMark(ctx, plan),
      planTable(ctx, plan),
      plan.status === "draft" ? form : null);
    form.append(h("button", { type: "submit", i18n: "approve", i18nValues: { name } }, ctx.t("approve", { name })));
    bindForm(form, {
      language: ctx.language,
      notices,
      read: () => ({}),
      keyOf: () => ({ plan: plan.trainee_id, version: shown.version }),
      send: (values, key) => ctx.api.request("training", `/plans/${path(plan.trainee_id)}/approve`,
        { method: "POST", body: {}, key, ifMatch: shown.version }),
      done: async (answer) => {
        await read(); // with the trainers' names
        notices.status("approved", { name, revision: answer.data.revision }, "ok");
        card.querySelector("h3")?.focus();
      },
      reload: async () => {
        notices.clear();
        await read();
        notices.status("approval_reloaded", { revision: shown.data.revision });
      },
    });
  };
  const read = async () => {
    try {
      shown = await ctx.api.request("training", `/plans/${path(item.trainee_id)}`);
      render();
    } catch (error) {
      body.replaceChildren(h("h3", { id: headingId }, fmt(item.trainee_name)));
      notices.error(error);
    }
  };
  await read();
  return card;
}
