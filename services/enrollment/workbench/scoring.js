// The examiner's scoring grid (docs/workbench.md), one exam session at a time (#scoring/<id>):
// every trainee the session examines (GET /sessions/{id}/sittings) with the written score (R-15:
// an after-sales or HR examiner enters it) and the practical scores per department (R-16: each
// examiner enters its own department's column; the others' are shown). Built for the keyboard:
// type a score, Enter saves the row and moves to the next one; Tab moves between the fields and
// leaving a row saves it. Each score is its own submission (POST /sessions/{id}/written or
// /practical) with its own Idempotency-Key, kept while the same score is sent again (a repeat
// after a lost answer replays instead of storing twice); problems show in the row. The decision
// appears with the sixth score, with the rater-spread flag (review_flags: practical_spread).
// An after-sales manager sees the same grid without fields, and records a failed trainee's
// disposition from it.

import { fmt, h } from "../pages/dom.js";
import { Notices, Submission } from "../pages/forms.js";
import { ApiError } from "../pages/api.js";
import { named } from "../pages/names.js";
import { everyPage, gradeLabel, say, scoreError } from "./sessions.js";

const WRITTEN_GRADERS = ["after_sales", "hr"];
const path = encodeURIComponent;

// The row's fields still to send: [{kind, department, input, submission}] with a value typed.
// A score the service refused (4xx) is not sent again until it is changed.
const pending = (row) => row.cells.filter((c) => c.input?.isConnected && c.input.value.trim() !== ""
  && c.input.value.trim() !== c.refused);

function flagsNode(ctx, decision) {
  const flags = decision?.review_flags ?? [];
  if (!flags.length) return "";
  const trace = decision.rule_trace.filter((line) => /spread/i.test(line)).join(" ");
  return h("strong", { class: "flag", title: trace }, flags.map((f) => say(ctx, `a_flag_${f}`)));
}

function decisionNode(ctx, row) {
  if (row.data.decision) return gradeLabel(ctx, row.data.decision);
  return "—";
}

export async function scoringView(ctx, section, sessionId) {
  const who = ctx.who();
  const examiner = who.roles.includes("examiner");
  const manager = who.roles.includes("after_sales_manager");
  const notices = new Notices(ctx.language);
  const picker = h("select", { id: "scoring-session", name: "session" });
  const choose = h("form", { class: "filters", "aria-labelledby": "view-title" },
    h("div", { class: "field" }, h("label", { for: "scoring-session", i18n: "a_f_exam_session" }), picker),
    h("button", { type: "submit", i18n: "a_show_grid" }));
  const title = h("h2", { id: "view-title", tabindex: -1, i18n: "view_scoring" });
  const grid = h("div", { id: "scoring-grid", class: "scroll" });
  section.append(title, choose, notices.node, grid);

  // Chosen, then shown (Enter or the button): arrowing through the options loads nothing.
  choose.addEventListener("submit", (event) => {
    event.preventDefault();
    ctx.navigate(picker.value ? `scoring/${path(picker.value)}` : "scoring");
  });
  try {
    const sessions = await everyPage(ctx, "/sessions", examiner && !manager ? { status: "open" } : {});
    picker.replaceChildren(h("option", { value: "", i18n: "choose" }, ctx.t("choose")),
      ...sessions.map((s) => h("option", { value: s.session_id },
        `${s.session_id} · ${s.product_series ?? s.content} · ${s.held_on}${s.status === "closed" ? " ✓" : ""}`)));
    picker.value = sessionId ?? "";
  } catch (error) {
    notices.error(error);
  }
  if (!sessionId) {
    grid.replaceChildren(h("p", { class: "empty", i18n: "a_choose_session" }, ctx.t("a_choose_session")));
    return null;
  }

  let sheet;
  try {
    sheet = await ctx.api.get("assessment", `/sessions/${path(sessionId)}/sittings`);
  } catch (error) {
    notices.error(error);
    return null;
  }
  const open = sheet.session.status === "open";
  const mine = {
    written: examiner && open && WRITTEN_GRADERS.includes(who.department),
    practical: examiner && open && sheet.practical_departments.includes(who.department) ? who.department : null,
  };
  title.dataset.i18n = "a_scoring_title";
  title.dataset.i18nValues = JSON.stringify({ id: sessionId, series: sheet.session.product_series ?? sheet.session.content });
  title.textContent = ctx.t("a_scoring_title", { id: sessionId, series: sheet.session.product_series ?? sheet.session.content });
  notices.status(open ? (mine.written || mine.practical ? "a_scoring_hint" : "a_scoring_readonly") : "a_scoring_closed",
    { department: { key: `a_dept_${who.department}` } });

  const columns = [
    { id: "col-written", kind: "written", department: null, key: "a_written" },
    ...sheet.practical_departments.map((d) => ({ id: `col-${d}`, kind: "practical", department: d, key: `a_dept_${d}` })),
  ];
  const editable = (col) => (col.kind === "written" ? mine.written : col.department === mine.practical);
  const valueOf = (data, col) => (col.kind === "written" ? data.written : data.practical[col.department]);
  const rows = sheet.rows.map((data, n) => ({ data, n, cells: [], saving: null }));

  const buildRow = (row) => {
    const head = h("th", { scope: "row", id: `sitting-${row.n}`, tabindex: -1 }, named(row.data.trainee_name, row.data.trainee_id));
    row.head = head;
    row.notices = new Notices(ctx.language);
    row.decision = h("td", { class: "decision" }, decisionNode(ctx, row));
    row.flags = h("td", { class: "flags" }, flagsNode(ctx, row.data.decision));
    row.cells = columns.map((col) => {
      const td = h("td", { class: "num", dataset: { column: col.department ?? "written" } });
      const cell = { ...col, td, input: null, submission: new Submission() };
      const stored = valueOf(row.data, col);
      if (stored == null && editable(col)) {
        cell.input = h("input", { type: "text", inputmode: "decimal", autocomplete: "off", size: 5,
          "aria-labelledby": `${col.id} sitting-${row.n}` });
        td.append(cell.input);
      } else {
        td.append(fmt(stored));
      }
      return cell;
    });
    const action = manager && row.data.decision?.type === "AssessmentFailed"
      ? h("a", { href: `#disposition/${path(row.data.trainee_id)}`, i18n: "a_record_disposition" }, ctx.t("a_record_disposition")) : "";
    row.tr = h("tr", { dataset: { trainee: row.data.trainee_id } }, head, row.cells.map((c) => c.td),
      row.decision, row.flags, h("td", { class: "row-notices" }, row.notices.node, action));
    row.tr.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.target.tagName !== "INPUT") return;
      event.preventDefault();
      save(row);
      row.moving = true; // the focus leaves the row: saved already
      next(row)?.focus();
      row.moving = false;
    });
    row.tr.addEventListener("focusout", (event) => {
      if (!row.moving && !row.tr.contains(event.relatedTarget)) save(row);
    });
    return row.tr;
  };

  // The first field of the next row that has one.
  const next = (row) => rows.slice(row.n + 1).map((later) => later.cells.find((c) => c.input?.isConnected))
    .find(Boolean)?.input ?? null;

  const show = (row, answer) => {
    row.data = { ...row.data, written: answer.written, practical: answer.practical, decision: answer.decision };
    for (const cell of row.cells) {
      const stored = valueOf(row.data, cell);
      if (stored == null) continue;
      const focused = cell.input && document.activeElement === cell.input;
      cell.input = null;
      cell.td.replaceChildren(stored);
      // The place kept for the keyboard: the row's next field, the next row's, or the row.
      if (focused) (row.cells.find((c) => c.input?.isConnected)?.input ?? next(row) ?? row.head).focus();
    }
    row.decision.replaceChildren(decisionNode(ctx, row));
    row.flags.replaceChildren(flagsNode(ctx, row.data.decision));
  };

  const send = async (row, cell, score) => {
    const key = cell.submission.keyFor(score);
    const url = `/sessions/${path(sessionId)}/${cell.kind}`;
    const body = cell.kind === "written"
      ? { trainee_id: row.data.trainee_id, score }
      : { trainee_id: row.data.trainee_id, department: cell.department, score };
    try {
      const answer = await ctx.api.request("assessment", url, { method: "POST", body, key });
      cell.submission.settled();
      cell.input.removeAttribute("aria-invalid");
      show(row, answer.data);
      return true;
    } catch (error) {
      // A 4xx is final (a new submission next time); no answer or a 5xx: the same score is
      // the same submission, sent again under its key.
      if (!(error instanceof ApiError) || (error.status >= 400 && error.status < 500)) {
        cell.submission.settled();
        cell.refused = score;
      }
      cell.input.setAttribute("aria-invalid", "true");
      row.notices.error(error);
      return false;
    }
  };

  const saveRow = async (row) => {
    row.notices.clear();
    const cells = pending(row);
    const wrong = cells.filter((c) => scoreError(c.input.value.trim()));
    for (const cell of cells) {
      if (wrong.includes(cell)) cell.input.setAttribute("aria-invalid", "true");
      else cell.input.removeAttribute("aria-invalid");
    }
    if (wrong.length) {
      row.notices.alert("a_err_score_row", { value: wrong[0].input.value.trim() });
      return;
    }
    if (!cells.length) return;
    row.tr.setAttribute("aria-busy", "true");
    let saved = true;
    for (const cell of cells) saved = (await send(row, cell, cell.input.value.trim())) && saved;
    row.tr.removeAttribute("aria-busy");
    if (saved) row.notices.status("a_row_saved", {}, "ok");
  };

  // One save of a row at a time: another Enter or focus change meanwhile waits for it, and
  // then sends only what is still unsaved.
  const save = (row) => {
    row.saving = (row.saving ?? Promise.resolve()).then(() => saveRow(row));
    return row.saving;
  };

  const header = h("thead", {}, h("tr", {},
    h("th", { scope: "col" }, say(ctx, "a_trainee")),
    columns.map((c) => h("th", { scope: "col", id: c.id, class: "num" }, say(ctx, c.key))),
    h("th", { scope: "col" }, say(ctx, "a_decision")),
    h("th", { scope: "col" }, say(ctx, "a_review")),
    h("th", { scope: "col" }, say(ctx, "a_row_status"))));
  grid.replaceChildren(rows.length
    ? h("table", { id: "scoring", "aria-labelledby": "view-title" }, header, h("tbody", {}, rows.map(buildRow)))
    : h("p", { class: "empty", i18n: "a_no_sittings" }, ctx.t("a_no_sittings")));
  return null;
}
