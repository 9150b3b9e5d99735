// The "Trends" view (issue 20): per month, trainees graded, assessments failed and trainer fines,
// for every branch or one, from assessment's GET /board/trends (at most 24 months). A table of
// the months' totals with a bar chart of graded and failed, then a table per month and branch;
// every month is shown, 0 where nothing happened.

import { $, h, table } from "../pages/dom.js";
import { named } from "../pages/names.js";

const SVG = "http://www.w3.org/2000/svg";
const MEASURES = ["graded", "failed", "fines"];

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  node.append(...children.map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
  return node;
}

// The month a year before this one (UTC): the default span is the twelve months to this one.
function monthsBack(month, n) {
  const [year, m] = month.split("-").map(Number);
  const index = year * 12 + (m - 1) - n;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`;
}

// ctx: { client, t, lang(), guarded, branchNames, branches() }
export class Trends {
  constructor(ctx) {
    this.ctx = ctx;
    this.data = null;
    this.asked = 0;
  }

  t(key, values) {
    return this.ctx.t(key, values);
  }

  bind() {
    const thisMonth = new Date().toISOString().slice(0, 7);
    $("#trends-to").value = thisMonth;
    $("#trends-from").value = monthsBack(thisMonth, 11);
    $("#trends-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.load();
    });
    $("#trends-branch").addEventListener("change", () => this.load());
  }

  query() {
    const params = new URLSearchParams();
    for (const [name, id] of [["from", "#trends-from"], ["to", "#trends-to"], ["branch_id", "#trends-branch"]]) {
      const value = $(id).value.trim();
      if (value) params.set(name, value);
    }
    return `?${params}`;
  }

  async load() {
    const asked = ++this.asked;
    let data = null;
    await this.ctx.guarded("trends-message", async () => {
      data = await this.ctx.client.get("assessment", `/board/trends${this.query()}`);
    }, "", () => asked === this.asked);
    if (asked !== this.asked) return;
    this.data = data;
    this.render();
  }

  render() {
    const totalsBox = $("#trends-totals");
    const branchBox = $("#trends-branches");
    const chartBox = $("#trends-chart");
    for (const box of [totalsBox, branchBox, chartBox]) box.replaceChildren();
    $("#trends-caption").textContent = "";
    const data = this.data;
    if (!data) return;
    const names = this.ctx.branchNames;
    names.learn(data.rows);
    for (const row of data.rows) this.ctx.branches().add(row.branch_id);
    this.renderBranchOptions();
    const lang = this.ctx.lang();
    $("#trends-caption").textContent = data.branch_id
      ? this.t("trends_scope_branch", { branch: names.name(data.branch_id, lang), from: data.from, to: data.to })
      : this.t("trends_scope_all", { from: data.from, to: data.to });
    const columns = [
      ...MEASURES.map((k) => ({ label: this.t(`trends_${k}`), key: k, numeric: true })),
      { label: this.t("trends_amount"), key: "amount", numeric: true },
    ];
    const month = { label: this.t("trends_month"), key: "month" };
    totalsBox.append(table([month, ...columns], data.totals, null, {
      attrs: { id: "trends-totals-table", "aria-label": this.t("trends_totals") },
      rowAttrs: (r) => ({ dataset: { month: r.month } }),
    }));
    chartBox.append(this.chart(data.totals), h("figcaption", {}, this.t("trends_chart")));
    branchBox.append(table([
      month,
      { label: this.t("branch"), render: (r) => named(names.name(r.branch_id, lang), r.branch_id) },
      ...columns,
    ], data.rows, null, {
      attrs: { id: "trends-branch-table", "aria-label": this.t("trends_by_branch") },
      rowAttrs: (r) => ({ dataset: { month: r.month, branch: r.branch_id } }),
    }));
  }

  renderBranchOptions() {
    const select = $("#trends-branch");
    const have = new Map([...select.options].map((o) => [o.value, o]));
    for (const id of [...this.ctx.branches()].sort()) {
      const option = have.get(id) ?? select.appendChild(h("option", { value: id }));
      option.textContent = this.ctx.branchNames.name(id, this.ctx.lang());
    }
  }

  // Two bars a month, graded and failed, on a shared axis.
  chart(totals) {
    const highest = Math.max(1, ...totals.flatMap((r) => [r.graded, r.failed]));
    const bar = 12, gap = 2, slot = 2 * bar + gap + 14, left = 40, top = 12, plot = 140;
    const width = left + totals.length * slot + 10;
    const height = top + plot + 28;
    const chart = svg("svg", {
      viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": this.t("trends_chart"),
      class: "bars", width, height,
    });
    for (const value of [0, highest]) {
      const y = top + plot - (plot * value) / highest;
      chart.append(svg("line", { x1: left - 4, x2: width - 10, y1: y, y2: y, class: "grid-line" }),
        svg("text", { x: left - 8, y: y + 4, "text-anchor": "end", class: "axis" }, value));
    }
    totals.forEach((r, i) => {
      const x = left + i * slot + 7;
      ["graded", "failed"].forEach((k, j) => {
        const heightPx = (plot * r[k]) / highest;
        chart.append(svg("rect", {
          x: x + j * (bar + gap), y: top + plot - heightPx, width: bar, height: heightPx,
          class: `bar s${j === 0 ? 1 : 4}`, "data-month": r.month, "data-measure": k,
        }, svg("title", {}, `${r.month} · ${this.t(`trends_${k}`)}: ${r[k]}`)));
      });
      chart.append(svg("text", { x: x + bar, y: top + plot + 16, "text-anchor": "middle", class: "axis" },
        r.month.slice(2)));
    });
    return chart;
  }
}
