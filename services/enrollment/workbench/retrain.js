// R-24's duty to retrain, in the trainer's views (docs/workbench.md): "Keep training until they
// pass" lists the trainees a fined trainer owes (GET /trainers/{me}/retraining on assessment),
// each with the session they failed, its series or content, and since when; a trainee leaves the
// list once it passes a later sitting.

import { h, table } from "../pages/dom.js";
import { Notices } from "../pages/forms.js";

// A label as text that follows the language.
const say = (ctx, key, values) => h("span", { i18n: key, i18nValues: values }, ctx.t(key, values));

// What a session examined: its product series, or its training content by name.
export const subjectOf = (ctx, row) => (row.content ? say(ctx, `r_content_${row.content}`) : row.product_series ?? "");

function owedTable(ctx, items) {
  return table([
    { label: say(ctx, "r_trainee"), render: (r) => `${r.trainee_name} (${r.trainee_id})` },
    { label: say(ctx, "r_session"), key: "session_id" },
    { label: say(ctx, "r_series_or_content"), render: (r) => subjectOf(ctx, r) },
    { label: say(ctx, "r_since"), key: "since" },
  ], items, null, { attrs: { id: "my-retraining" }, rowAttrs: (r) => ({ dataset: { trainee: r.trainee_id } }) });
}

export async function retrainingView(ctx, section) {
  const notices = new Notices(ctx.language);
  const refresh = h("button", { type: "button", i18n: "refresh" }, ctx.t("refresh"));
  const box = h("div", { class: "scroll" });
  section.append(h("h2", { id: "view-title", tabindex: -1, i18n: "view_retraining" }),
    h("p", { class: "hint", i18n: "r_intro" }), h("div", { class: "actions" }, refresh), notices.node, box);
  let items = null;
  const render = () => {
    if (items === null) return;
    box.replaceChildren(items.length ? owedTable(ctx, items)
      : h("p", { class: "empty", i18n: "r_none" }, ctx.t("r_none")));
  };
  const load = async () => {
    notices.status("loading");
    try {
      const me = encodeURIComponent(ctx.who().sub);
      items = (await ctx.api.get("assessment", `/trainers/${me}/retraining`)).items;
      notices.status("r_count", { n: items.length });
    } catch (error) {
      notices.error(error);
    }
    render();
  };
  refresh.addEventListener("click", load);
  await load();
  return { relabel: render };
}
