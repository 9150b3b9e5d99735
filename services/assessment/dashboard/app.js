// Gradeline management dashboard: plain JS module, no build step; the one third-party file is
// the vendored OpenID Connect client that signin.js drives.
// It reads the four services' APIs with the viewer's bearer token and renders the boards.
// Every value from an API reaches the page through textContent (never as HTML). Signing in,
// the API client, the labels' machinery and the tables are the pieces every page shares
// (/pages/, shared/pages in the repository), the workbench's too.

import { LABELS } from "./labels.js";
import { Session, bindSessionControls, takeTokenFromAddress } from "../pages/signin.js";
import { BranchNames, branchName, named, personName } from "../pages/names.js";
import { $, fmt, h, table, when } from "../pages/dom.js";
import {
  ApiClient, ApiError, SERVICES, defaultUrls, downloadFile, pageUrl, readUrls, saveUrls,
} from "../pages/api.js";
import { Language } from "../pages/i18n.js";
import { WHATIF_LABELS } from "./labels-whatif.js";
import { WhatIf } from "./whatif.js";
import { TRENDS_LABELS } from "./labels-trends.js";
import { Trends } from "./trends.js";

const POSITIONS = ["technician", "engineer"];
const LEVELS = ["junior", "intermediate", "senior"];
const PAY_LINES = [
  "position", "performance", "technical_allowance", "piece_rate",
  "travel_pay", "travel_allowance", "travel_subsidy",
];
const VIEWS = ["grades", "trainers", "progress", "trends", "pay", "audit", "whatif"];
const TOKEN_STORE = "gradeline.token";
const SVG = "http://www.w3.org/2000/svg";

const session = new Session(); // who is signed in, and the bearer token (signin.js)
const language = new Language({ ...LABELS, ...WHATIF_LABELS, ...TRENDS_LABELS });
let renderSession = () => {};
const state = {
  urls: {},
  view: "grades",
  loaded: new Set(),
  grades: { branch: "", asOf: "", data: null, branches: new Set(), drill: null },
  trainers: { session: "", data: null, sessions: new Set() },
  progress: { data: null },
  pay: { month: "", data: null },
  audit: { traineeId: "", data: null },
};

const branchNames = new BranchNames(); // learnt from the boards' rows

const client = new ApiClient(session, state.urls); // state.urls is changed in place
const t = (key, values = {}) => language.t(key, values);

// --- DOM helpers (the rest are /pages/dom.js's) ---------------------------------------------

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, String(value));
  }
  node.append(...children.map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
  return node;
}

function percent(rate) {
  const value = Number(rate);
  return Number.isFinite(value) ? `${(value * 100).toFixed(1)} %` : fmt(rate);
}

// Money is exact decimal text ("3200.00"): sums are kept in integer cents.
function cents(text) {
  const match = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(String(text ?? "0").trim());
  if (!match) return 0;
  const value = Number(match[2]) * 100 + Number((match[3] ?? "").padEnd(2, "0"));
  return match[1] ? -value : value;
}

function money(totalCents) {
  const sign = totalCents < 0 ? "-" : "";
  const abs = Math.abs(totalCents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

function showMessage(id, text, kind = "error") {
  const node = document.getElementById(id);
  node.textContent = text ?? "";
  node.className = `message ${kind}`;
  node.hidden = !text;
}

// Each view answers its latest request only: a slower earlier answer is dropped.
const tickets = new Map();
function ticket(view) {
  const next = (tickets.get(view) ?? 0) + 1;
  tickets.set(view, next);
  return () => tickets.get(view) === next;
}

// --- API ------------------------------------------------------------------------------------

async function api(service, path) {
  return client.get(service, path);
}

function errorText(error, hint403 = "") {
  if (!(error instanceof ApiError)) return String(error);
  const service = t(`svc_${error.service}`);
  switch (error.status) {
    case 0: return t("err_network", { service, url: error.url });
    case 401: return t(session.developerToken || !session.available ? "err_401" : "err_401_session", { service });
    case 403: return t("err_403", { service, detail: hint403 || error.detail });
    case 404: return t("err_404", { service, detail: error.detail });
    default: return t("err_other", { service, status: error.status, detail: error.detail });
  }
}

async function guarded(messageId, work, hint403 = "", isLatest = () => true) {
  // Runs ``work`` and says what went wrong; false when it failed or was overtaken.
  if (!session.hasCredentials()) {
    showMessage(messageId, t(session.available ? "err_signed_out" : "err_no_token"));
    return false;
  }
  showMessage(messageId, t("loading"), "info");
  try {
    await work();
    if (!isLatest()) return false;
    showMessage(messageId, "");
    return true;
  } catch (error) {
    if (!isLatest()) return false;
    showMessage(messageId, errorText(error, hint403));
    if (error instanceof ApiError && error.status === 401) {
      // A signed-in person is offered to sign in again (the client told the session).
      if (session.developerToken || !session.available) $("#connection").open = true;
    }
    return false;
  }
}

// --- files ------------------------------------------------------------------------------------

// A board as a workbook (assessment's GET /board/.../export.xlsx with the board's filters),
// fetched with the viewer's token and handed to the browser as a download.
async function downloadBoard(messageId, path, name, service = "assessment") {
  await guarded(messageId, () => downloadFile(session, service, client.urls[service], path, name));
}

// The grade board's filters as a query: its branch, and the end of its chosen day (UTC).
function gradesQuery() {
  const params = new URLSearchParams();
  if (state.grades.branch) params.set("branch_id", state.grades.branch);
  if (state.grades.asOf) params.set("as_of", `${state.grades.asOf}T23:59:59Z`);
  const query = params.toString();
  return query ? `?${query}` : "";
}

// --- grade board ----------------------------------------------------------------------------

async function loadGrades() {
  const g = state.grades;
  const latest = ticket("grades");
  let data = null;
  await guarded("grades-message", async () => {
    data = await api("assessment", `/board/grades${gradesQuery()}`);
  }, "", latest);
  if (!latest()) return;
  g.data = data;
  renderGrades();
}

function gradeCells(rows) {
  const cells = new Map(); // "branch|position|level" -> row
  const branches = new Set();
  for (const row of rows) {
    cells.set(`${row.branch_id}|${row.position}|${row.level}`, row);
    branches.add(row.branch_id);
  }
  return { cells, branches: [...branches].sort() };
}

function renderGrades() {
  const g = state.grades;
  const tableBox = $("#grades-table");
  const chartBox = $("#grades-chart");
  tableBox.replaceChildren();
  chartBox.replaceChildren();
  $("#grades-caption").textContent = "";
  if (!g.data) return;
  const { cells, branches } = gradeCells(g.data.rows);
  branchNames.learn(g.data.rows);
  for (const branch of branches) g.branches.add(branch);
  renderBranchOptions();
  $("#grades-caption").textContent = t(g.asOf ? "as_of_past" : "as_of_now", { when: when(g.data.as_of) });
  if (!branches.length) {
    tableBox.append(h("p", { class: "empty" }, t("no_grades")));
    return;
  }
  const combos = POSITIONS.flatMap((position) => LEVELS.map((level) => ({ position, level })));
  const head = h("thead", {},
    h("tr", {}, h("th", { rowspan: 2, scope: "col" }, t("branch")),
      POSITIONS.map((p) => h("th", { colspan: LEVELS.length, scope: "colgroup" }, t(p))),
      h("th", { rowspan: 2, scope: "col", class: "num" }, t("total"))),
    h("tr", {}, combos.map((c) => h("th", { scope: "col", class: "num" }, t(c.level)))));
  const columnTotals = combos.map(() => 0);
  const body = h("tbody", {}, branches.map((branch) => {
    let rowTotal = 0;
    const tds = combos.map((c, i) => {
      const row = cells.get(`${branch}|${c.position}|${c.level}`);
      const count = row ? row.count : 0;
      rowTotal += count;
      columnTotals[i] += count;
      const content = count
        ? h("button", { type: "button", class: "cell", onclick: () => drill(row) }, count)
        : h("span", { class: "zero" }, "0");
      return h("td", { class: "num", dataset: { cell: `${branch}|${c.position}|${c.level}` } }, content);
    });
    return h("tr", { dataset: { branch } },
      h("th", { scope: "row" }, named(branchNames.name(branch, language.lang), branch)), tds,
      h("td", { class: "num total" }, rowTotal));
  }));
  const grand = columnTotals.reduce((a, b) => a + b, 0);
  const foot = h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, t("total")),
    columnTotals.map((n) => h("td", { class: "num" }, n)), h("td", { class: "num total" }, grand)));
  tableBox.append(h("table", { id: "grade-table", class: "grid" }, head, body, foot),
    h("p", { class: "hint" }, t("chart_hint")));
  chartBox.append(gradeChart(branches, combos, cells),
    h("figcaption", {}, t("chart_title")));
  if (g.drill) renderDrill();
}

function gradeChart(branches, combos, cells) {
  // Grouped bars: one group per branch, one bar per position x level, counts on a shared axis.
  const highest = Math.max(1, ...[...cells.values()].map((r) => r.count));
  const step = Math.ceil(highest / 5); // at most five whole-number ticks
  const max = Math.ceil(highest / step) * step;
  const bar = 22, gap = 4, groupGap = 36, left = 40, top = 16, plot = 200, legendColumn = 210;
  const groupWidth = combos.length * (bar + gap) - gap;
  const plotRight = left + branches.length * (groupWidth + groupGap);
  const width = Math.max(plotRight, left + LEVELS.length * legendColumn) + 10;
  const legendY = top + plot + 48;
  const height = legendY + POSITIONS.length * 22 + 4;
  const chart = svg("svg", {
    viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": t("chart_title"),
    class: "bars", width, height,
  });
  for (let value = 0; value <= max; value += step) {
    const y = top + plot - (plot * value) / max;
    chart.append(svg("line", { x1: left - 4, x2: plotRight, y1: y, y2: y, class: "grid-line" }),
      svg("text", { x: left - 8, y: y + 4, "text-anchor": "end", class: "axis" }, value));
  }
  branches.forEach((branch, b) => {
    const x0 = left + b * (groupWidth + groupGap) + groupGap / 2;
    combos.forEach((c, i) => {
      const row = cells.get(`${branch}|${c.position}|${c.level}`);
      if (!row) return;
      const heightPx = (plot * row.count) / max;
      const label = `${branchNames.name(branch, language.lang)} · ${t(c.position)} · ${t(c.level)}: ${row.count}`;
      chart.append(svg("rect", {
        x: x0 + i * (bar + gap), y: top + plot - heightPx, width: bar, height: heightPx,
        class: `bar s${i}`, tabindex: 0, "data-cell": `${branch}|${c.position}|${c.level}`,
        onclick: () => drill(row),
        onkeydown: (e) => { if (e.key === "Enter") drill(row); },
      }, svg("title", {}, label)));
    });
    chart.append(svg("text", {
      x: x0 + groupWidth / 2, y: top + plot + 18, "text-anchor": "middle", class: "axis branch",
      "data-branch": branch,
    }, branchNames.name(branch, language.lang)));
  });
  combos.forEach((c, i) => { // one legend row per position, one column per level
    const x = left + (i % LEVELS.length) * legendColumn;
    const y = legendY + Math.floor(i / LEVELS.length) * 22;
    chart.append(svg("rect", { x, y: y - 10, width: 12, height: 12, class: `bar s${i}` }),
      svg("text", { x: x + 18, y, class: "legend" }, `${t(c.position)} · ${t(c.level)}`));
  });
  return chart;
}

function renderBranchOptions() {
  fillOptions($("#grades-branch"), state.grades.branches, state.grades.branch,
    (id) => branchNames.name(id, language.lang));
}

function fillOptions(select, values, selected, labelOf = (value) => value) {
  // The filter offers what the unfiltered board showed; the first option is "all". Options are
  // relabelled each time: a name arrives, or the language changes.
  const have = new Map([...select.options].map((o) => [o.value, o]));
  for (const value of [...values].sort()) {
    const option = have.get(value) ?? select.appendChild(h("option", { value }));
    option.textContent = labelOf(value);
  }
  select.value = selected;
}

const DRILL_PAGE = 50; // trainees a click on "more" adds, for a cell the board only links

async function drill(row) {
  // A small board lists each cell's trainees; a large one links the cell's pages instead.
  state.grades.drill = { row, ids: [...(row.trainee_ids ?? [])], next: null, details: new Map() };
  renderDrill();
  $("#drilldown").scrollIntoView({ block: "nearest" });
  if (row.trainee_ids) await drillDetails(row, row.trainee_ids);
  else await drillPage(row, null);
}

async function drillPage(row, cursor) {
  const params = new URLSearchParams({ limit: String(DRILL_PAGE) });
  if (cursor) params.set("cursor", cursor);
  const joiner = row.trainees.includes("?") ? "&" : "?";
  let page = null;
  const current = () => state.grades.drill?.row === row;
  state.grades.drill.next = null; // one "more" at a time
  renderDrill();
  await guarded("drilldown-message", async () => {
    page = await api("assessment", `${row.trainees}${joiner}${params}`);
  }, "", current);
  if (!page || !current()) {
    if (current()) { state.grades.drill.next = cursor; renderDrill(); } // failed: may retry
    return;
  }
  const ids = page.items.map((item) => item.trainee_id);
  state.grades.drill.ids.push(...ids);
  state.grades.drill.next = page.next_cursor;
  renderDrill();
  await drillDetails(row, ids);
}

async function drillDetails(row, ids) {
  await guarded("drilldown-message", async () => {
    // Names from enrollment, current grades from assessment; a trainee that one of them cannot
    // show stays listed with dashes.
    const results = await mapLimit(ids, 6, async (id) => {
      const [profile, grade] = await Promise.allSettled([
        api("enrollment", `/trainees/${encodeURIComponent(id)}`),
        api("assessment", `/trainees/${encodeURIComponent(id)}/grade`),
      ]);
      return [id, { profile: profile.value, grade: grade.value,
        error: profile.reason ?? grade.reason }];
    });
    if (state.grades.drill?.row !== row) return; // another cell was clicked meanwhile
    for (const [id, found] of results) state.grades.drill.details.set(id, found);
    const failures = results.map(([, d]) => d.error).filter(Boolean);
    if (failures.length === results.length && failures.length) throw failures[0];
  }, "", () => state.grades.drill?.row === row);
  if (state.grades.drill?.row === row) renderDrill();
}

async function mapLimit(items, limit, work) {
  const results = new Array(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  });
  await Promise.all(runners);
  return results;
}

function renderDrill() {
  const drillState = state.grades.drill;
  const panel = $("#drilldown");
  panel.hidden = !drillState;
  if (!drillState) return;
  const { row, ids, next, details } = drillState;
  $("#drilldown-title").textContent = t("drill_title", {
    branch: branchName(row, language.lang), position: t(row.position), level: t(row.level),
    n: row.count,
  });
  const rows = ids.map((id) => ({ id, ...(details.get(id) ?? {}) }));
  const more = next
    ? [h("button", { type: "button", id: "drilldown-more", onclick: () => drillPage(row, next) },
      t("drill_more", { shown: ids.length, n: row.count }))]
    : [];
  $("#drilldown-list").replaceChildren(table([
    { label: t("trainee_id"), render: (r) =>
      h("button", { type: "button", class: "link trainee", dataset: { trainee: r.id },
        onclick: () => openAudit(r.id) }, r.id) },
    { label: t("name"), render: (r) => fmt(r.profile?.name) },
    { label: t("current_grade"), render: (r) =>
      (r.grade ? `${t(r.grade.position)} · ${t(r.grade.level)}` : "—") },
    { label: t("grade_score"), numeric: true, render: (r) => fmt(r.grade?.grade_score) },
    { label: t("policy"), render: (r) => fmt(r.grade?.policy_version) },
    { label: t("assigned_at"), render: (r) => when(r.grade?.assigned_at) },
    { label: "", render: (r) => h("button", { type: "button", class: "link",
      onclick: () => openAudit(r.id) }, t("open_audit")) },
  ], rows), ...more);
}

// --- trainer board --------------------------------------------------------------------------

async function loadTrainers() {
  const session = state.trainers.session;
  const query = session ? `?session_id=${encodeURIComponent(session)}` : "";
  const latest = ticket("trainers");
  let data = null;
  await guarded("trainers-message", async () => {
    data = await api("assessment", `/board/trainers${query}`);
  }, "", latest);
  if (!latest()) return;
  state.trainers.data = data;
  renderTrainers();
}

function renderTrainers() {
  const box = $("#trainers-table");
  box.replaceChildren();
  const data = state.trainers.data;
  if (!data) return;
  for (const row of data.rows) state.trainers.sessions.add(row.session_id);
  fillOptions($("#trainers-session"), state.trainers.sessions, state.trainers.session);
  if (!data.rows.length) {
    box.append(h("p", { class: "empty" }, t("no_rows")));
    return;
  }
  const fines = data.rows.reduce((sum, r) => sum + cents(r.fine), 0);
  box.append(table([
    { label: t("trainer"), render: trainerCell },
    { label: t("session"), key: "session_id" },
    { label: t("series"), render: (r) => r.product_series ?? r.content ?? "" },  // or content (R-24)
    { label: t("trainees"), key: "trainees", numeric: true },
    { label: t("failed"), key: "failed", numeric: true },
    { label: t("failure_rate"), numeric: true, render: (r) => percent(r.failure_rate) },
    { label: t("fine"), key: "fine", numeric: true },
    { label: t("demerits"), key: "demerits", numeric: true },
    { label: t("retraining"), render: (r) => (r.retraining ?? []).join(", ") },
  ], data.rows, [t("total"), "", "", "", "", "", money(fines), "", ""]));
}

// Who and where, by name with the id beside it (names.js).
const trainerCell = (r) => named(personName(r, "trainer_id", "trainer_name"), r.trainer_id);
const branchCell = (r) => named(branchName(r, language.lang), r.branch_id);

// --- training progress ----------------------------------------------------------------------

async function loadProgress() {
  const latest = ticket("progress");
  let data = null;
  await guarded("progress-message", async () => {
    data = await api("training", "/board/progress");
  }, "", latest);
  if (!latest()) return;
  state.progress.data = data;
  renderProgress();
}

function renderProgress() {
  const branchBox = $("#progress-branches");
  const trainerBox = $("#progress-trainers");
  branchBox.replaceChildren();
  trainerBox.replaceChildren();
  $("#progress-caption").textContent = "";
  const data = state.progress.data;
  if (!data) return;
  $("#progress-caption").textContent = t("progress_as_of", { when: data.as_of });
  const counts = ["trainees", "without_plan", "draft", "approved", "completed", "withdrawn",
    "overdue_stages", "disputes", "send_backs"];
  if (data.rows.length) {
    const totals = counts.map((k) => data.rows.reduce((sum, r) => sum + Number(r[k] || 0), 0));
    branchNames.learn(data.rows);
    branchBox.append(table([
      { label: t("branch"), render: branchCell },
      ...counts.map((k) => ({ label: t(k), key: k, numeric: true })),
    ], data.rows, [t("total"), ...totals]));
  } else {
    branchBox.append(h("p", { class: "empty" }, t("no_rows")));
  }
  const tallies = ["disputed_stages", "dissenting_days", "send_backs_received", "demerits"];
  trainerBox.append(data.trainers.length ? table([
    { label: t("trainer"), render: trainerCell },
    ...tallies.map((k) => ({ label: t(k), key: k, numeric: true })),
  ], data.trainers) : h("p", { class: "empty" }, t("no_rows")));
}

// --- payroll and fees of a month ------------------------------------------------------------

async function loadPay() {
  const month = state.pay.month;
  if (!/^\d{4}-\d{2}$/.test(month)) return;
  const latest = ticket("pay");
  let data = null;
  await guarded("pay-message", async () => {
    const path = encodeURIComponent(month);
    const [payroll, fees, fines] = await Promise.all([
      api("compensation", `/payroll/${path}`),
      api("compensation", `/branch-fees/${path}`),
      api("compensation", `/trainer-fines/${path}`),
    ]);
    data = { payroll, fees, fines };
  }, "", latest);
  if (!latest()) return;
  state.pay.data = data;
  renderPay();
}

function renderPay() {
  const boxes = ["#pay-payroll", "#pay-fees", "#pay-fines"].map((s) => $(s));
  for (const box of boxes) box.replaceChildren();
  const data = state.pay.data;
  if (!data) return;
  const [payrollBox, feesBox, finesBox] = boxes;

  const slips = data.payroll.payslips;
  if (slips.length) {
    const used = PAY_LINES.filter((name) => slips.some((s) => s.lines.some((l) => l.name === name)));
    const lineAmount = (slip, name) => {
      const line = slip.lines.find((l) => l.name === name);
      return line ? h("span", { title: line.rule }, line.amount) : "—";
    };
    const lineTotals = used.map((name) => money(slips.reduce((sum, s) =>
      sum + cents(s.lines.find((l) => l.name === name)?.amount), 0)));
    const total = money(slips.reduce((sum, s) => sum + cents(s.total), 0));
    payrollBox.append(table([
      { label: t("employee"), render: (s) => h("span", {},
        named(personName(s, "employee_id", "employee_name"), s.employee_id),
        s.supersedes ? h("small", { class: "note" }, ` (${t("correction", { amount: s.difference })})`) : null) },
      ...used.map((name) => ({ label: t(`line_${name}`), numeric: true, render: (s) => lineAmount(s, name) })),
      { label: t("total"), numeric: true, render: (s) => h("strong", {}, s.total) },
    ], slips, [t("payroll_total"), ...lineTotals, h("strong", { id: "payroll-total" }, total)]));
  } else {
    payrollBox.append(h("p", { class: "empty" }, t("no_rows")));
  }

  const fees = data.fees.rows;
  feesBox.append(fees.length ? table([
    { label: t("branch"), render: branchCell },
    { label: t("trainee"), render: (r) => named(personName(r, "trainee_id", "trainee_name"), r.trainee_id) },
    { label: t("days"), key: "days", numeric: true },
    { label: t("amount"), key: "amount", numeric: true },
  ], fees, [t("fees_total"), "", fees.reduce((n, r) => n + r.days, 0),
    h("strong", { id: "fees-total" }, money(fees.reduce((sum, r) => sum + cents(r.amount), 0)))])
    : h("p", { class: "empty" }, t("no_rows")));

  const fines = data.fines.rows;
  finesBox.append(fines.length ? table([
    { label: t("trainer"), render: trainerCell },
    { label: t("session"), key: "session_id" },
    { label: t("series"), render: (r) => r.product_series ?? r.content ?? "" },  // or content (R-24)
    { label: t("failure_rate"), numeric: true, render: (r) => percent(r.failure_rate) },
    { label: t("amount"), key: "amount", numeric: true },
  ], fines, [t("fines_total"), "", "", "",
    money(fines.reduce((sum, r) => sum + cents(r.amount), 0))])
    : h("p", { class: "empty" }, t("no_rows")));
}

// --- audit timeline -------------------------------------------------------------------------

function openAudit(traineeId) {
  state.audit.traineeId = traineeId;
  $("#audit-trainee").value = traineeId;
  state.audit.data = null;
  state.loaded.delete("audit");
  navigate("audit");
}

async function loadAudit() {
  const id = state.audit.traineeId;
  $("#audit-trainee").value = id;
  if (!id) return;
  const latest = ticket("audit");
  let data = null;
  await guarded("audit-message", async () => {
    data = await api("assessment", `/trainees/${encodeURIComponent(id)}/audit`);
  }, t("err_403_audit"), latest);
  if (!latest()) return;
  state.audit.data = data;
  renderAudit();
}

function summary(data) {
  // The scalar facts of an event, compactly; the whole payload is one click away.
  return Object.entries(data ?? {})
    .filter(([k, v]) => k !== "trainee_id" && v !== null && typeof v !== "object")
    .slice(0, 8)
    .map(([k, v]) => `${k}=${v}`)
    .join(" · ");
}

function decisionText(decision) {
  if (!decision) return "—";
  const grade = decision.position
    ? `${t(decision.position)} · ${t(decision.level)}`
    : decision.type;
  return decision.grade_score !== undefined ? `${grade} (${decision.grade_score})` : grade;
}

function renderAudit() {
  const box = $("#audit-report");
  box.replaceChildren();
  const report = state.audit.data;
  if (!report) return;
  const verdict = h("p", { id: "audit-verdict", class: `verdict ${report.consistent ? "ok" : "bad"}`,
    dataset: { consistent: String(report.consistent) } },
    report.consistent ? `✓ ${t("consistent")}` : `✗ ${t("inconsistent")}`);

  const events = h("ol", { id: "audit-events", class: "timeline" }, report.events.map((e) =>
    h("li", { dataset: { type: e.type, service: e.service } },
      h("div", { class: "event-head" },
        h("time", {}, when(e.occurred_at)),
        h("span", { class: `tag svc-${e.service}` }, e.service),
        h("strong", { class: "event-type" }, e.type),
        h("span", { class: "actor" }, e.actor ? `${e.actor.sub} (${e.actor.role})` : "")),
      h("div", { class: "event-data" }, summary(e.data)),
      h("details", {}, h("summary", {}, t("data")),
        h("pre", {}, JSON.stringify(e.data, null, 2))))));

  const derivations = h("div", { id: "audit-derivations" }, report.derivations.map((d) =>
    h("article", { class: `derivation ${d.consistent ? "ok" : "bad"}` },
      h("h4", {}, `${d.type} — ${d.consistent ? t("decision_ok") : t("decision_bad")}`),
      h("dl", {},
        h("dt", {}, t("policy")), h("dd", {}, fmt(d.policy_version)),
        h("dt", {}, t("recorded")), h("dd", {}, decisionText(d.recorded)),
        h("dt", {}, t("rederived")), h("dd", {}, decisionText(d.rederived))),
      h("h5", {}, t("rule_trace")),
      h("ol", { class: "rule-trace" }, d.rule_trace.map((step) => h("li", {}, step))),
      d.problem ? h("p", { class: "message" }, d.problem) : null)));

  const differences = report.differences.length
    ? h("ul", { id: "audit-differences", class: "differences" }, report.differences.map((d) =>
      h("li", {}, [d.kind, d.service, d.stream_id && `${d.stream_id}#${d.version}`, d.field,
        d.detail ?? (d.recorded !== undefined ? `${t("recorded")} ${JSON.stringify(d.recorded)} ≠ ${t("rederived")} ${JSON.stringify(d.rederived)}` : null)]
        .filter(Boolean).join(" · "))))
    : null;

  box.append(...[
    h("h2", {}, `${t("trainee")} ${report.trainee_id}`), verdict,
    h("h3", {}, t("derivations")), derivations,
    differences ? h("h3", {}, t("differences")) : null, differences,
    h("h3", {}, t("timeline", { n: report.events.length })), events,
  ].filter(Boolean));
}

// --- navigation, language, connection -------------------------------------------------------

const whatIf = new WhatIf({
  client, session, t, lang: () => language.lang, guarded, branchNames,
  branches: () => state.grades.branches,
});
const trends = new Trends({
  client, t, lang: () => language.lang, guarded, branchNames, branches: () => state.grades.branches,
});
const LOADERS = {
  grades: loadGrades, trainers: loadTrainers, progress: loadProgress, pay: loadPay,
  audit: loadAudit, whatif: () => whatIf.load(), trends: () => trends.load(),
};
const RENDERERS = {
  grades: renderGrades, trainers: renderTrainers, progress: renderProgress, pay: renderPay,
  audit: renderAudit, whatif: () => whatIf.render(), trends: () => trends.render(),
};

function navigate(view) {
  const hash = view === "audit" && state.audit.traineeId
    ? `#audit/${encodeURIComponent(state.audit.traineeId)}`
    : `#${view}`;
  if (location.hash !== hash) history.pushState(null, "", hash);
  show(view);
}

function show(view) {
  state.view = VIEWS.includes(view) ? view : "grades";
  for (const tab of document.querySelectorAll("[role=tab]")) {
    tab.setAttribute("aria-selected", String(tab.dataset.view === state.view));
  }
  for (const name of VIEWS) $(`#view-${name}`).hidden = name !== state.view;
  if (!state.loaded.has(state.view)) {
    state.loaded.add(state.view);
    LOADERS[state.view]();
  }
}

function fromHash() {
  const [view, id] = location.hash.replace(/^#/, "").split("/");
  if (view === "audit" && id) {
    const traineeId = decodeURIComponent(id);
    if (traineeId !== state.audit.traineeId) {
      state.audit.traineeId = traineeId;
      state.loaded.delete("audit");
    }
  }
  show(view || "grades");
}

function applyLanguage() {
  language.apply(); // every [data-i18n] text, the document's language, the switch
  document.title = t("title");
  workbenchLink();
  for (const render of Object.values(RENDERERS)) render();
  renderBranchOptions();
  renderSession();
}

// The workbench (enrollment's /app/), where people do their daily work.
function workbenchLink() {
  $("#workbench-link").href = pageUrl(`/app/?lang=${language.lang}`, "enrollment", state.urls, session.config);
}

function currentMonth() {
  return new Date().toISOString().slice(0, 7); // YYYY-MM, UTC
}

function readSettings() {
  const query = new URLSearchParams(location.search);
  Object.assign(state.urls, readUrls("assessment", query, session.config));
  session.setDeveloperToken(sessionStorage.getItem(TOKEN_STORE) || "");
  state.pay.month = query.get("month") || currentMonth();
  state.grades.branch = query.get("branch") || "";
}

function reloadAll() {
  state.loaded.clear();
  state.grades.drill = null;
  renderDrill();
  show(state.view);
}

function bind() {
  const form = $("#connection-form");
  $("#token").value = session.developerToken;
  for (const service of SERVICES) $(`#url-${service}`).value = state.urls[service];
  $("#connection").open = !session.hasCredentials() && !session.available;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    session.setDeveloperToken($("#token").value);
    for (const service of SERVICES) {
      state.urls[service] = $(`#url-${service}`).value.trim()
        || defaultUrls("assessment", session.config)[service];
    }
    saveUrls(state.urls);
    workbenchLink();
    renderSession();
    reloadAll();
  });
  renderSession = bindSessionControls(session, t);
  let viewer = session.identity()?.sub;
  session.onChange(() => {
    // Another person (or nobody) now: what the boards showed was the previous viewer's.
    const now = session.identity()?.sub;
    if (now !== viewer) {
      viewer = now;
      reloadAll();
    }
  });

  language.onChange(applyLanguage);
  for (const tab of document.querySelectorAll("[role=tab]")) {
    tab.addEventListener("click", () => navigate(tab.dataset.view));
  }
  window.addEventListener("popstate", fromHash);
  for (const button of document.querySelectorAll(".refresh")) {
    button.addEventListener("click", () => LOADERS[state.view]());
  }

  $("#grades-branch").addEventListener("change", (event) => {
    state.grades.branch = event.target.value;
    state.grades.drill = null;
    renderDrill();
    loadGrades();
  });
  $("#grades-asof").addEventListener("change", (event) => {
    state.grades.asOf = event.target.value;
    state.grades.drill = null;
    renderDrill();
    loadGrades();
  });
  $("#grades-now").addEventListener("click", () => {
    $("#grades-asof").value = "";
    state.grades.asOf = "";
    state.grades.drill = null;
    renderDrill();
    loadGrades();
  });
  $("#grades-form").addEventListener("submit", (event) => event.preventDefault());
  $("#grades-download").addEventListener("click", () => downloadBoard("grades-message",
    `/board/grades/export.xlsx${gradesQuery()}`, `grades-${state.grades.asOf || "now"}.xlsx`));
  $("#trainers-download").addEventListener("click", () => {
    const chosen = state.trainers.session;
    const query = chosen ? `?session_id=${encodeURIComponent(chosen)}` : "";
    downloadBoard("trainers-message", `/board/trainers/export.xlsx${query}`,
      `trainers${chosen ? `-${chosen}` : ""}.xlsx`);
  });
  $("#progress-form").addEventListener("submit", (event) => event.preventDefault());
  $("#progress-download").addEventListener("click", () => downloadBoard("progress-message",
    "/board/progress/export.xlsx", `progress-${state.progress.data?.as_of ?? "now"}.xlsx`, "training"));
  $("#trainers-form").addEventListener("submit", (event) => event.preventDefault());
  $("#trainers-session").addEventListener("change", (event) => {
    state.trainers.session = event.target.value;
    loadTrainers();
  });
  $("#pay-month").value = state.pay.month;
  $("#pay-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.pay.month = $("#pay-month").value;
    loadPay();
  });
  whatIf.bind();
  trends.bind();
  $("#audit-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const id = $("#audit-trainee").value.trim();
    if (id) openAudit(id);
  });
}

// The language first: a switch pressed while the sign-in settles is not lost.
language.read();
language.bindSwitch($("#lang-toggle"));
language.apply();
takeTokenFromAddress(session);
await session.start(); // then: a return from the provider carries the address to restore
readSettings();
bind();
applyLanguage();
fromHash();
document.body.dataset.ready = "true";
