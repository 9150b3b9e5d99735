// The branch clerk's enrolments (docs/workbench.md): one trainee by form (POST /trainees), many
// from a spreadsheet (POST /imports/trainees). The form checks what the request model checks
// (required fields, bounds, the id's shape, distinct list entries) and R-1 (the category fits
// the branch's kind) before sending; what only the service can decide (R-2 open branch, R-3 a
// date not in the future by the service's clock, an id taken) comes back as problem+json and is
// shown beside the field it names. The trainees themselves: trainees.js.

import { h, table } from "../pages/dom.js";
import { Notices, bindForm, field } from "../pages/forms.js";

export const CATEGORIES = ["hq_full_time", "production_reserve", "branch_commissioned"];
export const EDUCATION = [
  "junior_high", "high_school", "vocational_secondary", "junior_college", "bachelor", "postgraduate",
];
const ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const LIST_SEPARATORS = /[,，、;；]+/;
const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

const select = (name, options, { empty = true } = {}) => h("select", { name },
  empty ? h("option", { value: "", i18n: "choose" }) : null,
  options.map(([value, key]) => h("option", { value, i18n: key })));

// The branches a person may enrol into: any open one for an after-sales manager, a clerk's own.
async function enrolmentBranches(ctx) {
  const who = ctx.who();
  const open = (await ctx.branches.all()).filter((b) => b.status === "open");
  return who.roles.includes("after_sales_manager") ? open : open.filter((b) => b.branch_id === who.branch);
}

function branchLabel(ctx, branch) {
  const name = ctx.language.lang === "zh" ? branch.name_zh : branch.name_en;
  return name && name !== branch.branch_id ? `${name} (${branch.branch_id})` : branch.branch_id;
}

export const splitList = (text) => String(text ?? "").split(LIST_SEPARATORS).map((s) => s.trim()).filter(Boolean);

function readEnrolment(form) {
  const value = (name) => form.elements[name].value.trim();
  const body = {
    name: value("name"),
    category: value("category"),
    branch_id: value("branch_id"),
    education: value("education"),
    experience_years: value("experience_years"),
    certificates: splitList(value("certificates")),
    product_series: splitList(value("product_series")),
    enrolled_on: value("enrolled_on"),
  };
  if (value("trainee_id")) body.trainee_id = value("trainee_id");
  return body;
}

// The request model's checks (services/enrollment/schemas.py, EnrollRequest) and R-1.
function checkEnrolment(body, kinds) {
  const errors = [];
  const wrong = (field, key) => errors.push({ field, key });
  if (body.trainee_id !== undefined && !ID_PATTERN.test(body.trainee_id)) wrong("trainee_id", "err_id_pattern");
  if (!body.name) wrong("name", "required");
  else if (body.name.length > 200) wrong("name", "err_too_long");
  for (const name of ["category", "branch_id", "education", "enrolled_on"]) {
    if (!body[name]) wrong(name, "required");
  }
  const years = body.experience_years;
  if (!years) wrong("experience_years", "required");
  else if (!/^\d+(\.\d)?$/.test(years)) wrong("experience_years", "err_years_format");
  else if (Number(years) > 70) wrong("experience_years", "err_years_range");
  for (const [name, longest] of [["certificates", 200], ["product_series", 100]]) {
    const list = body[name];
    if (new Set(list).size !== list.length) wrong(name, "err_distinct");
    else if (list.length > 50 || list.some((entry) => entry.length > longest)) wrong(name, "err_too_long");
  }
  const kind = kinds.get(body.branch_id);
  if (body.category && kind && (body.category === "branch_commissioned") === (kind === "hq")) {
    wrong("category", "err_category_branch");
  }
  return errors;
}

export async function enrolView(ctx, section) {
  const notices = new Notices(ctx.language);
  const branchSelect = select("branch_id", []);
  const input = (name, attrs = {}) => h("input", { type: "text", name, ...attrs });
  const form = h("form", { id: "enrol-form", "aria-labelledby": "view-title" },
    field("enrol-name", "f_name", input("name", { autocomplete: "off", maxlength: 200 }), { required: true }),
    field("enrol-category", "f_category", select("category", CATEGORIES.map((c) => [c, `cat_${c}`])), { required: true }),
    field("enrol-branch", "f_branch", branchSelect, { required: true }),
    field("enrol-education", "f_education", select("education", EDUCATION.map((e) => [e, `edu_${e}`])), { required: true }),
    field("enrol-years", "f_experience_years", input("experience_years", { inputmode: "decimal" }), { required: true, hint: "hint_years" }),
    field("enrol-certificates", "f_certificates", input("certificates"), { hint: "hint_list" }),
    field("enrol-series", "f_product_series", input("product_series"), { hint: "hint_list" }),
    field("enrol-date", "f_enrolled_on", input("enrolled_on", { type: "date" }), { required: true }),
    field("enrol-id", "f_trainee_id", input("trainee_id", { autocomplete: "off", spellcheck: "false" }), { hint: "hint_trainee_id" }),
    h("div", { class: "actions" }, h("button", { type: "submit", i18n: "enrol_submit" })));
  const result = h("div", { id: "enrol-result" });
  section.append(h("h2", { id: "view-title", tabindex: -1, i18n: "view_enrol" }),
    h("p", { class: "hint", i18n: "enrol_intro" }), notices.node, form, result);

  let kinds = new Map();
  let choices = [];
  const fillBranches = () => {
    const chosen = branchSelect.value;
    branchSelect.replaceChildren(h("option", { value: "", i18n: "choose" }, ctx.t("choose")),
      ...choices.map((b) => h("option", { value: b.branch_id }, branchLabel(ctx, b))));
    branchSelect.value = chosen || (choices.length === 1 ? choices[0].branch_id : "");
  };
  try {
    choices = await enrolmentBranches(ctx);
    kinds = new Map(choices.map((b) => [b.branch_id, b.kind]));
    fillBranches();
    if (!choices.length) notices.alert("err_no_branch", { branch: ctx.who().branch || "—" });
  } catch (error) {
    notices.error(error);
  }

  bindForm(form, {
    language: ctx.language,
    notices,
    read: readEnrolment,
    check: (body) => checkEnrolment(body, kinds),
    send: (body, key) => ctx.api.request("enrollment", "/trainees", { method: "POST", body, key }),
    done: (answer) => {
      const id = answer.data.trainee_id;
      const name = form.elements.name.value.trim();
      notices.status("enrolled", { name, id }, "ok");
      result.replaceChildren(h("p", {}, h("a", { href: `#trainees/${encodeURIComponent(id)}`, i18n: "open_trainee", i18nValues: { name } }, ctx.t("open_trainee", { name }))));
      for (const name of ["name", "trainee_id", "certificates", "product_series"]) form.elements[name].value = "";
      form.elements.name.focus();
    },
  });
  return { relabel: fillBranches };
}

// --- many at once -------------------------------------------------------------------------

const IMPORT_COLUMNS = [
  ["trainee_id", "学员编号", "col_optional_id"],
  ["name", "姓名", null],
  ["category", "类别", "col_category"],
  ["branch_id", "网点编号", null],
  ["education", "学历", "col_education"],
  ["experience_years", "工作年限", null],
  ["certificates", "证书", "col_optional_list"],
  ["product_series", "产品系列", "col_optional_list"],
  ["enrolled_on", "报名日期", "col_date"],
];

// The columns a sheet's first row names: [[English, Chinese, label key of its values], ...].
export function columnsTable(ctx, columns = IMPORT_COLUMNS) {
  return table([
    { label: h("span", { i18n: "col_en" }, ctx.t("col_en")), render: (r) => h("code", {}, r[0]) },
    { label: h("span", { i18n: "col_zh" }, ctx.t("col_zh")), render: (r) => r[1] },
    { label: h("span", { i18n: "col_values" }, ctx.t("col_values")), render: (r) => (r[2] ? h("span", { i18n: r[2] }, ctx.t(r[2])) : "") },
  ], columns, null, { attrs: { class: "columns" } });
}

// The per-row report: the problems that kept the file out, or each row's new trainee.
function problemsReport(ctx, errors) {
  return table([
    { label: h("span", { i18n: "col_row" }, ctx.t("col_row")), numeric: true, render: (e) => e.row ?? "—" },
    { label: h("span", { i18n: "col_column" }, ctx.t("col_column")), render: (e) => e.field },
    { label: h("span", { i18n: "col_problem" }, ctx.t("col_problem")), render: (e) => (e.rule ? `${e.message} (${e.rule})` : e.message) },
  ], errors, null, { attrs: { id: "import-problems" }, rowAttrs: (e) => ({ dataset: { row: e.row ?? "" } }) });
}

function enrolledReport(ctx, rows) {
  return table([
    { label: h("span", { i18n: "col_row" }, ctx.t("col_row")), numeric: true, key: "row" },
    { label: h("span", { i18n: "trainee_id" }, ctx.t("trainee_id")), render: (r) =>
      h("a", { href: `#trainees/${encodeURIComponent(r.trainee_id)}` }, r.trainee_id) },
  ], rows, null, { attrs: { id: "import-enrolled" }, rowAttrs: (r) => ({ dataset: { row: r.row } }) });
}

export function importView(ctx, section) {
  const notices = new Notices(ctx.language);
  const file = h("input", { type: "file", accept: `.xlsx,${XLSX}` });
  const form = h("form", { id: "import-form", "aria-labelledby": "view-title" },
    field("import-file", "f_sheet", file, { required: true, hint: "hint_sheet" }),
    h("div", { class: "actions" }, h("button", { type: "submit", i18n: "import_submit" })));
  const report = h("div", { id: "import-report", class: "scroll" });
  section.append(h("h2", { id: "view-title", tabindex: -1, i18n: "view_import" }),
    h("p", { class: "hint", i18n: "import_intro" }),
    h("details", { class: "panel" }, h("summary", { i18n: "import_columns" }), columnsTable(ctx)),
    form, notices.node, report);

  bindSheet(ctx, form, { file, notices, report, service: "enrollment", path: "/imports/trainees",
    refused: "import_refused",
    done: (answer) => {
      notices.status("imported", { n: answer.data.imported }, "ok");
      report.replaceChildren(enrolledReport(ctx, answer.data.rows));
    } });
}

// A spreadsheet's upload form (any service's POST /imports/...): the file itself as the body;
// a 422 listing the rows' problems is shown as the per-row report (``refused``: its label key).
export function bindSheet(ctx, form, { file, notices, report, service, path, refused, done }) {
  bindForm(form, {
    language: ctx.language,
    notices,
    // The same file (name, size, time) is the same submission: sent again, it replays.
    read: () => file.files[0] ?? null,
    check: (chosen) => (chosen ? [] : [{ field: file.name, key: "required" }]),
    send: (chosen, key) => {
      report.replaceChildren();
      return ctx.api.request(service, path, { method: "POST", body: chosen, contentType: XLSX, key });
    },
    keyOf: (chosen) => `${chosen.name}|${chosen.size}|${chosen.lastModified}`,
    done,
    failed: (error) => {
      const rows = error.errors?.filter((e) => "row" in e) ?? [];
      if (error.status !== 422 || !rows.length) return false;
      notices.alert(refused, { n: rows.length });
      report.replaceChildren(problemsReport(ctx, rows));
      return true;
    },
  });
}
