// Payroll's month on the workbench (docs/workbench.md), through the compensation service:
//
// - "Pay inputs" (#pay-inputs/<YYYY-MM>): one row per employee a grade gave a pay rate (GET
//   /payroll/{month}/inputs: those the month's run pays, with the inputs their category is paid
//   on and what is recorded so far), each row a form of its own: what changed goes to POST
//   /employees/{id}/travel, /piece-rate and /performance, each under the row submission's
//   Idempotency-Key (a double click stores once) and with If-Match: the account's version the
//   grid showed (a 412 says someone else recorded meanwhile and offers to read the grid again);
//   the service's errors beside the input they concern. Below it the month's inputs from a spreadsheet (POST /imports/pay-inputs/{month}:
//   every row or none, a per-row report).
// - "Payroll" (#payroll/<YYYY-MM>): run the month (POST /payroll/{month}/run), then its payslips
//   with their corrections, branch fees and trainer fines and their files (payslips.js).

import { h, table } from "../pages/dom.js";
import { Notices, bindForm, field, showFieldErrors } from "../pages/forms.js";
import { named } from "../pages/names.js";
import { bindSheet, columnsTable } from "./clerk.js";
import { label, monthPayroll } from "./payslips.js";

const MONTH = /^[0-9]{4}-(0[1-9]|1[0-2])$/;
const MONEY = /^[0-9]{1,9}(\.[0-9]{1,2})?$/;
const RATING = /^(100(\.00?)?|[0-9]{1,2}(\.[0-9]{1,2})?)$/;
const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"; // what the chooser offers

// Each input: its label, the route that records it and the body it sends.
const INPUTS = {
  travel_days: { label: "pay_travel_days", path: "travel", body: (v) => ({ days: Number(v) }), mode: "numeric" },
  piece_rate: { label: "pay_piece_rate", path: "piece-rate", body: (v) => ({ amount: v }), mode: "decimal" },
  rating: { label: "pay_rating", path: "performance", body: (v) => ({ rating: v }), mode: "decimal" },
};
// The body field each route's 422 names, as the grid's column.
const BODY_FIELDS = { days: "travel_days", amount: "piece_rate", rating: "rating" };

const IMPORT_COLUMNS = [
  ["employee_id", "员工编号", null],
  ["name", "姓名", "pay_col_name"],
  ["travel_days", "出差天数", "pay_col_days"],
  ["piece_rate", "计件工资", "pay_col_piece"],
  ["rating", "绩效评分", "pay_col_rating"],
];

// The month before this one: the month payroll usually works on.
function lastMonth(now = new Date()) {
  const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return month.toISOString().slice(0, 7);
}

const daysIn = (month) => new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5)), 0)).getUTCDate();

// The month chooser: shows the view again for the month chosen (its address says which).
function monthChooser(ctx, viewId, month) {
  const input = h("input", { type: "month", value: month, required: true });
  const form = h("form", { class: "filters", "aria-labelledby": "view-title" },
    field(`${viewId}-month`, "pay_month", input),
    h("button", { type: "submit", i18n: "pay_show" }, ctx.t("pay_show")));
  form.noValidate = true;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!MONTH.test(input.value)) {
      showFieldErrors(form, [{ field: input.name, key: "err_month" }], ctx.language);
      return;
    }
    ctx.navigate(`${viewId}/${input.value}`);
  });
  return form;
}

// The month the address names, else the one chosen last in this tab (the other payroll view's
// link names none), else last month.
const MONTH_STORE = "gradeline.pay.month";
function chosenMonth(param) {
  const stored = sessionStorage.getItem(MONTH_STORE);
  const month = param && MONTH.test(param) ? param : stored && MONTH.test(stored) ? stored : lastMonth();
  sessionStorage.setItem(MONTH_STORE, month);
  return month;
}

function heading(ctx, key, month) {
  return h("h2", { id: "view-title", tabindex: -1, i18n: key, i18nValues: { month } }, ctx.t(key, { month }));
}

function post(ctx, row) {
  const position = row.position ? ctx.t(`position_${row.position}`) : "";
  const level = row.level ? ` · ${ctx.t(`a_level_${row.level}`)}` : "";
  return `${ctx.t(`cat_${row.category}`)} · ${position}${level}`;
}

// --- the grid -------------------------------------------------------------------------------

// The row's inputs that differ from what is recorded (a cleared one is left as recorded).
function changes(controls, recorded) {
  const changed = {};
  for (const [name, control] of Object.entries(controls)) {
    const value = control.value.trim();
    const before = recorded[name];
    if (value === "" || (before !== null && Number(value) === Number(before))) continue;
    changed[name] = value;
  }
  return changed;
}

// What the routes' request models and the month's length allow, checked before sending.
function checkRow(ctx, values, month) {
  const errors = [];
  const days = daysIn(month);
  if ("travel_days" in values && !(/^[0-9]{1,2}$/.test(values.travel_days) && Number(values.travel_days) <= days)) {
    errors.push({ field: "travel_days", message: ctx.t("err_days_month", { days }) });
  }
  if ("piece_rate" in values && !MONEY.test(values.piece_rate)) errors.push({ field: "piece_rate", key: "err_money" });
  if ("rating" in values && !RATING.test(values.rating)) errors.push({ field: "rating", key: "err_rating" });
  return errors;
}

function inputRow(ctx, row, index, month, relabels, reloadGrid) {
  const notices = new Notices(ctx.language);
  const recorded = { travel_days: row.travel_days, piece_rate: row.piece_rate, rating: row.rating };
  const nameId = `pay-row-${index}-name`;
  const controls = {};
  const cells = Object.entries(INPUTS).map(([name, input]) => {
    if (!row.inputs.includes(name)) return h("div", { class: "pay-cell pay-na", dataset: { input: name } }, "—");
    const control = h("input", { type: "text", name, inputmode: input.mode, autocomplete: "off",
      value: recorded[name] ?? "", size: 8 });
    controls[name] = control;
    const box = field(`pay-row-${index}-${name}`, input.label, control);
    box.classList.add("pay-cell");
    box.querySelector(".label-line").classList.add("visually-hidden"); // the column names it
    return box;
  });
  const postCell = h("div", { class: "pay-cell pay-post" }, post(ctx, row));
  relabels.push(() => (postCell.textContent = post(ctx, row)));
  const form = h("form", { class: "pay-row", "aria-labelledby": nameId, dataset: { employee: row.employee_id } },
    h("div", { class: "pay-cell", id: nameId }, named(row.employee_name, row.employee_id)),
    postCell,
    ...cells,
    h("div", { class: "pay-cell pay-save" },
      h("button", { type: "submit", i18n: "pay_save" }, ctx.t("pay_save")), notices.node));

  let failedInput = null;
  bindForm(form, {
    language: ctx.language,
    notices,
    read: () => changes(controls, recorded),
    check: (values) => checkRow(ctx, values, month),
    // Each route's request under the row submission's key, told apart: a resend after a lost
    // answer replays each; what was stored before a refusal is not sent again.
    send: async (values, key) => {
      const id = encodeURIComponent(row.employee_id);
      for (const [name, value] of Object.entries(values)) {
        const input = INPUTS[name];
        failedInput = name;
        const answer = await ctx.api.request("compensation", `/employees/${id}/${input.path}`,
          { method: "POST", body: { month, ...input.body(value) }, key: `${key}-${name}`, ifMatch: row.version });
        recorded[name] = value;
        row.version = answer.data.version;
      }
      failedInput = null;
      return Object.keys(values);
    },
    // Someone else recorded an input of this employee after the grid was read (412): the
    // grid read again shows it.
    reload: reloadGrid,
    done: (saved) => notices.status(saved.length ? "pay_saved" : "pay_nothing_changed", {}, saved.length ? "ok" : "info"),
    // The service's refusal beside the input it concerns: a 422 names the body's field, a rule
    // (409) the input whose request it refused.
    failed: (error) => {
      if (!failedInput || ![409, 422].includes(error.status)) return false;
      const errors = error.status === 422
        ? error.errors.map((e) => ({ ...e, field: BODY_FIELDS[String(e.field).split(".").pop()] ?? failedInput }))
        : [{ field: failedInput, message: error.detail, rule: error.problem?.rule }];
      const { marked } = showFieldErrors(form, errors, ctx.language);
      if (error.status === 422) notices.error(error, { fields: marked });
      else notices.error(error);
      return true;
    },
  });
  return form;
}

function gridHead(ctx) {
  const names = ["pay_employee", "pay_post", ...Object.values(INPUTS).map((i) => i.label), null];
  return h("div", { class: "pay-row pay-head", "aria-hidden": "true" },
    names.map((key) => h("div", { class: "pay-cell" }, key ? label(ctx, key) : "")));
}

async function grid(ctx, box, notices, month, relabels) {
  const reload = () => grid(ctx, box, notices, month, relabels);
  notices.status("loading");
  relabels.length = 0;
  try {
    const answer = await ctx.api.get("compensation", `/payroll/${month}/inputs`);
    notices.status("pay_employees_count", { n: answer.rows.length });
    box.replaceChildren(answer.rows.length
      ? h("div", { class: "pay-grid", id: "pay-grid" }, gridHead(ctx), answer.rows.map((row, i) => inputRow(ctx, row, i, month, relabels, reload)))
      : h("p", { class: "empty", i18n: "pay_no_employees" }, ctx.t("pay_no_employees")));
    ctx.language.apply(box); // the fields' labels
  } catch (error) {
    notices.error(error);
  }
}

// --- the sheet ------------------------------------------------------------------------------

function importedReport(ctx, rows) {
  return table([
    { label: label(ctx, "col_row"), numeric: true, key: "row" },
    { label: label(ctx, "pay_employee"), key: "employee_id" },
    { label: label(ctx, "pay_recorded"), render: (r) => r.recorded.map((name) => ctx.t(INPUTS[name].label)).join(", ") },
  ], rows, null, { attrs: { id: "import-recorded" }, rowAttrs: (r) => ({ dataset: { row: r.row } }) });
}

function sheetImport(ctx, month, reloadGrid) {
  const notices = new Notices(ctx.language);
  const file = h("input", { type: "file", accept: `.xlsx,${XLSX}` });
  const form = h("form", { id: "import-form", "aria-labelledby": "import-title" },
    field("import-file", "f_sheet", file, { required: true, hint: "hint_sheet" }),
    h("div", { class: "actions" }, h("button", { type: "submit", i18n: "pay_import_submit" })));
  const report = h("div", { id: "import-report", class: "scroll" });
  bindSheet(ctx, form, { file, notices, report, service: "compensation",
    path: `/imports/pay-inputs/${month}`, refused: "pay_import_refused",
    done: async (answer) => {
      notices.status("pay_imported", { n: answer.data.imported }, "ok");
      report.replaceChildren(importedReport(ctx, answer.data.rows));
      await reloadGrid();
    } });
  return h("section", { class: "pay-import", "aria-labelledby": "import-title" },
    h("h3", { id: "import-title", i18n: "pay_import_title" }),
    h("p", { class: "hint", i18n: "pay_import_intro" }),
    h("details", { class: "panel" }, h("summary", { i18n: "import_columns" }), columnsTable(ctx, IMPORT_COLUMNS)),
    form, notices.node, report);
}

export async function payInputsView(ctx, section, param) {
  const month = chosenMonth(param);
  const notices = new Notices(ctx.language);
  const box = h("div", { class: "scroll" });
  const relabels = []; // what the rows wrote with t() (categories, positions)
  const load = () => grid(ctx, box, notices, month, relabels);
  section.append(heading(ctx, "pay_inputs_of", month), monthChooser(ctx, "pay-inputs", month),
    h("p", { class: "hint", i18n: "pay_inputs_intro" }), notices.node, box, sheetImport(ctx, month, load));
  await load();
  return { relabel: () => relabels.forEach((relabel) => relabel()) };
}

// --- the run --------------------------------------------------------------------------------

export async function payrollView(ctx, section, param) {
  const month = chosenMonth(param);
  const notices = new Notices(ctx.language);
  const form = h("form", { id: "run-form", "aria-labelledby": "view-title" },
    h("p", { class: "hint", i18n: "pay_run_hint" }),
    h("div", { class: "actions" }, h("button", { type: "submit", i18n: "pay_run_submit" })));
  const box = h("div");
  section.append(heading(ctx, "pay_payroll_of", month), monthChooser(ctx, "payroll", month), form, notices.node, box);
  let shown = null;
  // Bound before anything is awaited: a click meanwhile is not a native submission.
  bindForm(form, {
    language: ctx.language,
    notices,
    read: () => ({}),
    send: (body, key) => ctx.api.request("compensation", `/payroll/${month}/run`, { method: "POST", body, key }),
    done: async (answer) => {
      const issued = answer.data.issued;
      notices.status("pay_ran", { payslips: issued.payslips, corrections: issued.corrections,
        fees: issued.branch_fees, fines: issued.trainer_fines }, "ok");
      await shown?.reload();
    },
  });
  shown = await monthPayroll(ctx, box, month);
  return shown;
}
