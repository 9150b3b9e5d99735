// Payslips on the workbench (docs/workbench.md), from the compensation service:
//
// - the month's, for payroll (under "Payroll", payroll.js): GET /payroll/{month} (the latest
//   payslip per employee, a correction saying what it corrects and by how much, and every
//   payslip issued in the month, superseded ones marked: R-32), GET /branch-fees/{month} (R-19)
//   and GET /trainer-fines/{month} (R-24), each with its files (…/export.xlsx, …/export.csv):
//   the files need the bearer token, so a link fetches its file with it and saves the answer as
//   a download;
// - a trainee's own ("My payslips", #my-payslips): GET /employees/{sub}/payslips, every page.
//   That list is a read model a moment behind the run: Refresh, as the page says.

import { downloadFile } from "../pages/api.js";
import { h, table, when } from "../pages/dom.js";
import { Notices } from "../pages/forms.js";
import { branchName, named } from "../pages/names.js";
import { everyPage } from "./plans.js";

export const label = (ctx, key, values) => h("span", { i18n: key, i18nValues: values }, ctx.t(key, values));

const lines = (ctx, payslip) => payslip.lines.map((l) => `${ctx.t(`line_${l.name}`)} ${l.amount}`).join("; ");
const signed = (amount) => (amount.startsWith("-") ? amount : `+${amount}`);

function correction(ctx, payslip) {
  if (!payslip.supersedes) return "—";
  return label(ctx, "pay_corrects", { difference: signed(payslip.difference ?? "0.00") });
}

function state(ctx, payslip) {
  return label(ctx, payslip.superseded ? "pay_superseded" : "pay_in_force");
}

// --- files ----------------------------------------------------------------------------------

// The file at ``path`` on compensation, downloaded with the person's token.
function download(ctx, path, name) {
  return downloadFile(ctx.session, "compensation", ctx.urls.compensation, path, name);
}

// The links to a view's files: ``what`` the view's label key, ``stem`` its path and file name.
function files(ctx, notices, what, stem, month) {
  return h("p", { class: "actions files" }, ["xlsx", "csv"].map((kind) => {
    const path = `/${stem}/${month}/export.${kind}`;
    const name = `${stem}-${month}.${kind}`;
    const values = { what: { key: what }, kind };
    return h("a", {
      href: `${ctx.urls.compensation.replace(/\/+$/, "")}${path}`,
      i18n: "pay_download",
      i18nValues: values,
      onclick: async (event) => {
        event.preventDefault();
        notices.clear();
        try {
          await download(ctx, path, name);
          notices.status("pay_downloaded", { file: name }, "ok");
        } catch (error) {
          notices.error(error);
        }
      },
    }, ctx.t("pay_download", values));
  }));
}

// --- the month's, for payroll ---------------------------------------------------------------

function payslipsTable(ctx, payslips) {
  return table([
    { label: label(ctx, "pay_employee"), render: (p) => named(p.employee_name, p.employee_id) },
    { label: label(ctx, "pay_lines"), render: (p) => lines(ctx, p) },
    { label: label(ctx, "pay_total"), numeric: true, key: "total" },
    { label: label(ctx, "pay_correction"), render: (p) => correction(ctx, p) },
    { label: label(ctx, "pay_issued_at"), render: (p) => when(p.issued_at) },
  ], payslips, null, { attrs: { id: "payslips" }, rowAttrs: (p) => ({ dataset: { employee: p.employee_id } }) });
}

function historyTable(ctx, history) {
  return table([
    { label: label(ctx, "pay_employee"), render: (p) => named(p.employee_name, p.employee_id) },
    { label: label(ctx, "pay_total"), numeric: true, key: "total" },
    { label: label(ctx, "pay_correction"), render: (p) => correction(ctx, p) },
    { label: label(ctx, "pay_state"), render: (p) => state(ctx, p) },
    { label: label(ctx, "pay_issued_at"), render: (p) => when(p.issued_at) },
  ], history, null, { attrs: { id: "payslip-history" }, rowAttrs: (p) => ({ dataset: { payslip: p.payslip_id } }) });
}

// R-33: a fee or fine is assessed until its month's payroll run issues it (labels-feed.js).
const status = (ctx, r) => label(ctx, `charge_${r.status}`);

export function feesTable(ctx, rows) {
  return table([
    { label: label(ctx, "f_branch"), render: (r) => named(branchName(r, ctx.language.lang), r.branch_id) },
    { label: label(ctx, "pay_trainee"), render: (r) => named(r.trainee_name, r.trainee_id) },
    { label: label(ctx, "pay_days"), numeric: true, key: "days" },
    { label: label(ctx, "pay_amount"), numeric: true, key: "amount" },
    { label: label(ctx, "pay_status"), render: (r) => status(ctx, r) },
  ], rows, null, { attrs: { id: "branch-fees" } });
}

function finesTable(ctx, rows) {
  return table([
    { label: label(ctx, "pay_trainer"), render: (r) => named(r.trainer_name, r.trainer_id) },
    { label: label(ctx, "pay_session"), key: "session_id" },
    { label: label(ctx, "pay_series"), key: "product_series" },
    { label: label(ctx, "pay_content"), key: "content" },
    { label: label(ctx, "pay_failure_rate"), numeric: true, key: "failure_rate" },
    { label: label(ctx, "pay_amount"), numeric: true, key: "amount" },
    { label: label(ctx, "pay_status"), render: (r) => status(ctx, r) },
  ], rows, null, { attrs: { id: "trainer-fines" } });
}

const empty = (ctx, key) => h("p", { class: "empty", i18n: key }, ctx.t(key));

// The month's payslips, branch fees and trainer fines in ``box``; {reload, relabel}.
export async function monthPayroll(ctx, box, month) {
  const notices = new Notices(ctx.language);
  const parts = h("div");
  box.replaceChildren(notices.node, parts);
  let shown = null;

  const render = () => {
    if (!shown) return;
    const [payroll, fees, fines] = shown;
    const section = (id, title, ...content) => h("section", { "aria-labelledby": id },
      h("h3", { id, i18n: title }, ctx.t(title)), ...content);
    parts.replaceChildren(
      section("payslips-title", "pay_payslips",
        payroll.payslips.length ? files(ctx, notices, "pay_payslips", "payroll", month) : null,
        payroll.payslips.length ? payslipsTable(ctx, payroll.payslips) : empty(ctx, "pay_no_payslips"),
        payroll.history.length > payroll.payslips.length
          ? h("details", { class: "panel", id: "payslip-history-panel" },
            h("summary", { i18n: "pay_history", i18nValues: { n: payroll.history.length } },
              ctx.t("pay_history", { n: payroll.history.length })),
            historyTable(ctx, payroll.history))
          : null),
      section("fees-title", "pay_fees",
        fees.rows.length ? files(ctx, notices, "pay_fees", "branch-fees", month) : null,
        fees.rows.length ? feesTable(ctx, fees.rows) : empty(ctx, "pay_no_fees")),
      section("fines-title", "pay_fines",
        fines.rows.length ? files(ctx, notices, "pay_fines", "trainer-fines", month) : null,
        fines.rows.length ? finesTable(ctx, fines.rows) : empty(ctx, "pay_no_fines")));
    ctx.language.apply(parts);
  };
  const reload = async () => {
    notices.status("loading");
    try {
      shown = await Promise.all(["payroll", "branch-fees", "trainer-fines"]
        .map((stem) => ctx.api.get("compensation", `/${stem}/${month}`)));
      notices.clear();
      render();
    } catch (error) {
      notices.error(error);
    }
  };
  await reload();
  return { reload, relabel: render };
}

// --- a trainee's own ------------------------------------------------------------------------

export async function myPayslipsView(ctx, section) {
  const notices = new Notices(ctx.language);
  const refresh = h("button", { type: "button", i18n: "refresh" }, ctx.t("refresh"));
  const box = h("div", { class: "scroll" });
  section.append(h("h2", { id: "view-title", tabindex: -1, i18n: "view_my_payslips" }),
    h("p", { class: "hint", i18n: "pay_my_intro" }), h("div", { class: "actions" }, refresh), notices.node, box);
  let items = null;

  const render = () => {
    if (items === null) return;
    box.replaceChildren(items.length ? table([
      { label: label(ctx, "pay_month"), key: "month" },
      { label: label(ctx, "pay_lines"), render: (p) => lines(ctx, p) },
      { label: label(ctx, "pay_total"), numeric: true, key: "total" },
      { label: label(ctx, "pay_correction"), render: (p) => correction(ctx, p) },
      { label: label(ctx, "pay_state"), render: (p) => state(ctx, p) },
      { label: label(ctx, "pay_issued_at"), render: (p) => when(p.issued_at) },
    ], items, null, { attrs: { id: "my-payslips" }, rowAttrs: (p) => ({ dataset: { month: p.month } }) })
      : empty(ctx, "pay_no_my_payslips"));
  };
  const load = async () => {
    notices.status("loading");
    try {
      items = await everyPage(ctx, "compensation", `/employees/${encodeURIComponent(ctx.who().sub)}/payslips`);
      notices.status("pay_my_count", { n: items.length });
    } catch (error) {
      notices.error(error);
    }
    render();
  };
  refresh.addEventListener("click", load);
  await load();
  return { relabel: render };
}
