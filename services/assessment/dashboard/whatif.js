// The "What if" view (docs/what-if.md): management edits a draft of the grading policy in force
// (a band's minimum score, a fine tier) and the branch fee, picks a period and a branch, and sees
// whose grade or pay changes, the counts before and after and the monthly cost difference, from
// assessment's POST /what-if, which appends nothing. The workbook is POST /what-if/report.xlsx.

import { $, h, table } from "../pages/dom.js";
import { named } from "../pages/names.js";

// ctx: { client, session, t, lang(), guarded, showMessage, branchNames, branches() }
export class WhatIf {
  constructor(ctx) {
    this.ctx = ctx;
    this.start = null; // GET /what-if/policies: the grading and fines documents in force
    this.answer = null;
    this.asked = 0; // evaluations asked for: only the latest one's answer is shown
  }

  t(key, values) {
    return this.ctx.t(key, values);
  }

  async load() {
    await this.ctx.guarded("whatif-message", async () => {
      this.start = await this.ctx.client.get("assessment", "/what-if/policies");
      const board = await this.ctx.client.get("assessment", "/board/grades"); // the branches
      this.ctx.branchNames.learn(board.rows);
      for (const row of board.rows) this.ctx.branches().add(row.branch_id);
    });
    this.render();
  }

  bind() {
    $("#whatif-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.evaluate();
    });
    $("#whatif-download").addEventListener("click", () => this.download());
    const today = new Date().toISOString().slice(0, 10);
    $("#whatif-from").value = `${today.slice(0, 4)}-01-01`;
    $("#whatif-to").value = today;
  }

  // The request: the draft holds only what was changed from the document in force.
  request() {
    const policies = {};
    const grading = this.start?.grading;
    if (grading) {
      const bands = grading.bands.map((b, i) => ({ ...b, min_score: $(`#whatif-band-${i}`).value.trim() }));
      if (bands.some((b, i) => b.min_score !== grading.bands[i].min_score)) policies.grading = { bands };
      const inForce = this.start.fines.fine_tiers;
      const tiers = inForce.map((f, i) => ({ ...f, fine: $(`#whatif-tier-${i}`).value.trim() }));
      if (tiers.some((f, i) => f.fine !== inForce[i].fine)) policies.fines = { fine_tiers: tiers };
    }
    const fee = $("#whatif-fee").value.trim();
    if (fee) policies.fees = { branch_fee_per_training_day: fee };
    const body = { policies, from: $("#whatif-from").value, to: $("#whatif-to").value };
    const branch = $("#whatif-branch").value;
    if (branch) body.branch_ids = [branch];
    return body;
  }

  async evaluate() {
    const asked = ++this.asked;
    const latest = () => this.asked === asked; // a slower earlier answer is dropped
    let answer = null;
    let refused = null;
    const ok = await this.ctx.guarded("whatif-message", async () => {
      try {
        answer = (await this.ctx.client.request("assessment", "/what-if", {
          method: "POST", body: this.request(),
        })).data;
      } catch (error) {
        refused = error;
        throw error;
      }
    }, "", latest);
    if (!latest()) return;
    this.problems(refused?.problem?.errors ?? []);
    if (!ok) return;
    this.answer = answer;
    this.render();
  }

  // A 422 lists every problem of the draft: one per line under the message.
  problems(errors) {
    $("#whatif-problems").replaceChildren(...errors.map((e) =>
      h("li", {}, h("code", {}, e.field), ` ${e.message}`)));
  }

  async download() {
    const { client, session } = this.ctx;
    await this.ctx.guarded("whatif-message", async () => {
      const base = client.urls.assessment.replace(/\/+$/, "");
      const token = await session.accessToken();
      const response = await fetch(`${base}/what-if/report.xlsx`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
        body: JSON.stringify(this.request()),
      });
      if (!response.ok) throw new Error(`${response.status} ${(await response.json()).detail ?? ""}`);
      const link = h("a", { href: URL.createObjectURL(await response.blob()), download: "what-if.xlsx" });
      document.body.append(link);
      link.click();
      link.remove();
    });
  }

  render() {
    this.renderDraft();
    this.renderBranches();
    this.renderAnswer();
  }

  renderBranches() {
    const select = $("#whatif-branch");
    const chosen = select.value;
    const options = [...this.ctx.branches()].sort()
      .map((id) => h("option", { value: id }, this.ctx.branchNames.name(id, this.ctx.lang())));
    select.replaceChildren(h("option", { value: "" }, this.t("all_branches")), ...options);
    select.value = chosen;
  }

  renderDraft() {
    const box = $("#whatif-draft");
    const grading = this.start?.grading;
    const kept = new Map([...box.querySelectorAll("input")].map((i) => [i.id, i.value]));
    box.replaceChildren();
    if (!grading) return;
    const input = (id, value, label) => h("input", {
      id, type: "text", inputmode: "decimal", size: 6, value: kept.get(id) ?? value, "aria-label": label,
    });
    box.append(
      h("p", { class: "caption" }, this.t("whatif_in_force", { version: this.start.version })),
      table([
        { label: this.t("whatif_band"), render: (b) => `${this.t(b.position)} · ${this.t(b.level)}` },
        { label: this.t("whatif_min_score"), numeric: true, render: (b) => input(`whatif-band-${b.i}`,
          b.min_score, this.t("whatif_band_input", { position: this.t(b.position), level: this.t(b.level) })) },
      ], grading.bands.map((b, i) => ({ ...b, i })), null, { attrs: { id: "whatif-bands" } }),
      table([
        { label: this.t("whatif_tier"), render: (f) => `≥ ${Number(f.min_rate) * 100} %` },
        { label: this.t("fine"), numeric: true, render: (f) => input(`whatif-tier-${f.i}`, f.fine,
          this.t("whatif_tier_input", { rate: `${Number(f.min_rate) * 100} %` })) },
      ], this.start.fines.fine_tiers.map((f, i) => ({ ...f, i })), null, { attrs: { id: "whatif-tiers" } }),
    );
  }

  renderAnswer() {
    const boxes = ["#whatif-changes", "#whatif-counts", "#whatif-cost"].map((s) => $(s));
    for (const box of boxes) box.replaceChildren();
    const a = this.answer;
    if (!a) return;
    const [changesBox, countsBox, costBox] = boxes;
    const branch = (id) => named(this.ctx.branchNames.name(id, this.ctx.lang()), id);
    changesBox.append(a.changes.length ? table([
      { label: this.t("trainee"), key: "trainee_id" },
      { label: this.t("branch"), render: (c) => branch(c.branch_id) },
      { label: this.t("grade_score"), numeric: true, render: (c) => c.before.grade_score ?? "—" },
      { label: this.t("whatif_grade_before"), render: (c) => this.grade(c.before) },
      { label: this.t("whatif_grade_after"), render: (c) => this.grade(c.after) },
      { label: this.t("whatif_pay_before"), numeric: true, render: (c) => c.before.pay },
      { label: this.t("whatif_pay_after"), numeric: true, render: (c) => c.after.pay },
      { label: this.t("whatif_difference"), numeric: true, render: (c) => c.pay_delta },
    ], a.changes, null, { attrs: { id: "whatif-changes-table" } })
      : h("p", { class: "empty" }, this.t("whatif_no_changes")));
    countsBox.append(table([
      { label: this.t("branch"), render: (r) => branch(r.branch_id) },
      { label: this.t("whatif_grade"), render: (r) => this.grade({ passed: null, ...r }) },
      { label: this.t("whatif_count_before"), numeric: true, key: "before" },
      { label: this.t("whatif_count_after"), numeric: true, key: "after" },
    ], this.counts(a), null, { attrs: { id: "whatif-counts-table" } }));
    const total = a.monthly_cost_delta.total;
    costBox.append(table([
      { label: this.t("month"), key: "month" },
      { label: this.t("whatif_cost_before"), numeric: true, key: "before" },
      { label: this.t("whatif_cost_after"), numeric: true, key: "after" },
      { label: this.t("whatif_difference"), numeric: true, key: "delta" },
    ], a.monthly_cost_delta.months,
    [this.t("total"), total.before, total.after, h("strong", { id: "whatif-total-delta" }, total.delta)],
    { attrs: { id: "whatif-cost-table" } }));
  }

  grade(side) {
    if (!side || side.passed === undefined) return "—";
    if (side.position) return `${this.t(side.position)} · ${this.t(side.level)}`;
    return this.t(side.passed === false ? "whatif_failed" : "whatif_no_grade");
  }

  counts(answer) {
    const rows = new Map();
    const key = (r) => `${r.branch_id}|${r.position ?? ""}|${r.level ?? ""}`;
    for (const [side, list] of [["before", answer.board_before], ["after", answer.board_after]]) {
      for (const r of list) {
        const row = rows.get(key(r)) ?? { ...r, before: 0, after: 0 };
        row[side] = r.count;
        rows.set(key(r), row);
      }
    }
    return [...rows.values()].sort((x, y) => key(x).localeCompare(key(y)));
  }
}
