// The plan level shapes the plan (R-7, R-7a) and the remedial revision (R-18a) in the plan
// editor and the approval queue (plans.js; docs/workbench.md):
//
// - each stage of the editor ticks the content items of the trainee's plan level it teaches
//   (its ``covers``); a line shows the items no stage covers yet, and a plan missing some is not
//   sent (the check the service makes when the plan is approved, services/training/domain/
//   coverage.py), as R-8a's topics are not;
// - a completed plan whose trainee was kept in training (continue_training) is re-drafted as a
//   remedial revision: the completed stages locked as signed, new stages after them;
// - the approval queue marks a remedial revision.

import { h } from "../pages/dom.js";

// R-7a: the items of each plan level as the plan_content policy in force says (training's
// GET /policies/plan_content; docs/policy.md), read by loadLevelItems() when an editor opens.
let levelTable = {};

export async function loadLevelItems(ctx) {
  const policy = await ctx.api.get("training", "/policies/plan_content");
  levelTable = policy.in_force?.document.levels ?? {};
}

export const levelItems = (level) => levelTable[level] ?? [];

const label = (ctx, key, values) => h("span", { i18n: key, i18nValues: values }, ctx.t(key, values));
const joined = (ctx, parts) => parts.join(ctx.language.lang === "zh" ? "、" : ", ");

// the items of ``level`` no stage covers, in the policy's order.
export function missingContent(stages, level) {
  const covered = new Set(stages.flatMap((s) => s.covers ?? []));
  return levelItems(level).filter((code) => !covered.has(code));
}

// The level's items as ticks for stage ``n``; codes it covers beyond them are kept as they are.
// Returns {node, read(), renumber(n)}; ``locked``: a completed stage of a remedial revision.
export function coversField(ctx, n, stage, level, { locked = false, onChange = () => {} } = {}) {
  const given = stage.covers ?? [];
  const items = levelItems(level);
  const extra = given.filter((code) => !items.includes(code));
  const boxes = items.map((code) => {
    const box = h("input", { type: "checkbox", value: code });
    box.checked = given.includes(code);
    box.disabled = locked;
    box.addEventListener("change", onChange);
    return box;
  });
  const lines = boxes.map((box, i) => h("label", { class: "tick" }, box,
    h("span", { i18n: "f_cover", i18nValues: { item: { key: `item_${items[i]}` }, n } },
      ctx.t("f_cover", { item: { key: `item_${items[i]}` }, n }))));
  const legend = h("legend", { class: "visually-hidden", i18n: "f_stage_covers", i18nValues: { n } },
    ctx.t("f_stage_covers", { n }));
  const node = h("fieldset", { class: "covers", dataset: { field: `s${n}-covers` } }, legend, ...lines);
  return {
    node,
    // A locked stage is sent exactly as it was signed (R-18a compares it as drafted).
    read: () => (locked ? [...given] : [...boxes.filter((b) => b.checked).map((b) => b.value), ...extra]),
    renumber: (m) => {
      legend.dataset.i18nValues = JSON.stringify({ n: m });
      node.dataset.field = `s${m}-covers`;
      for (const span of node.querySelectorAll("span[data-i18n='f_cover']")) {
        const values = JSON.parse(span.dataset.i18nValues);
        span.dataset.i18nValues = JSON.stringify({ ...values, n: m });
      }
    },
  };
}

// The line under the editor: what of the level no stage covers yet. Returns the missing
// items' names (empty when covered or while no level is known).
export function showCovers(ctx, line, stages, level) {
  if (!level) {
    setLine(ctx, line, "covers_no_level", {}, "info");
    return "";
  }
  const missing = missingContent(stages, level);
  const items = joined(ctx, missing.map((code) => ctx.t(`item_${code}`)));
  const values = { level: { key: `level_${level}` }, items };
  setLine(ctx, line, missing.length ? "covers_missing" : "covers_covered", values, missing.length ? "error" : "ok");
  return missing.length ? items : "";
}

function setLine(ctx, line, key, values, kind) {
  line.className = `message ${kind}`;
  line.dataset.i18n = key;
  line.dataset.i18nValues = JSON.stringify(values);
  line.textContent = ctx.t(key, values);
}

// The plan table's column of content items (its ``covers``), by name.
export function coversColumn(ctx) {
  return {
    label: label(ctx, "col_covers"),
    render: (s) => joined(ctx, (s.covers ?? []).map((code) => ctx.t(`item_${code}`))),
  };
}

// R-18a: how the editor treats the plan shown: "remedial" (draft a remedial revision: the
// completed stages locked), "closed" (completed, no continue_training since), or "open".
export function remedialMode(plan) {
  if (!plan) return "open";
  if (plan.status === "completed") return plan.remedial_due ? "remedial" : "closed";
  return plan.remedial ? "remedial" : "open";
}

// The numbers of the stages a remedial revision keeps as signed.
export function keptStages(plan) {
  if (!plan || remedialMode(plan) !== "remedial") return new Set();
  return new Set(plan.stages.filter((s) => s.status === "signed_off").map((s) => s.no));
}

// The approval queue's mark of a remedial revision, or nothing.
export function remedialMark(ctx, plan) {
  return plan.remedial ? h("p", { class: "message info remedial" }, label(ctx, "remedial_mark")) : null;
}
