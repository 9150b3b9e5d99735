// The administrator's "Personal data" (#privacy, docs/privacy.md): the people the retention
// policy says are due for erasure (GET /people/erasure-proposals), what the four services hold
// about a person (GET /people/{id}/data, summed up by service; the whole of it as a workbook,
// GET /people/{id}/data.xlsx) and the erasure itself (POST /people/{id}/erasure, with a reason
// and a confirmation: it cannot be undone). One Idempotency-Key per submission.

import { h, table } from "../pages/dom.js";
import { downloadFile } from "../pages/api.js";
import { Notices, bindForm, field } from "../pages/forms.js";

const say = (ctx, key, values) => h("span", { i18n: key, i18nValues: values }, ctx.t(key, values));

// The person's workbook, downloaded with the administrator's token; answers its file name.
async function download(ctx, person) {
  const name = `personal-data-${person}.xlsx`;
  const path = `/people/${encodeURIComponent(person)}/data.xlsx`;
  await downloadFile(ctx.session, "enrollment", ctx.urls.enrollment, path, name);
  return name;
}

function heldTable(ctx, answer) {
  const rows = Object.entries(answer.services).map(([service, part]) => ({
    service,
    events: part.events.length,
    rows: Object.values(part.rows).reduce((n, list) => n + list.length, 0),
  }));
  return table([
    { label: say(ctx, "pv_col_service"), key: "service" },
    { label: say(ctx, "pv_col_events"), numeric: true, key: "events" },
    { label: say(ctx, "pv_col_rows"), numeric: true, key: "rows" },
  ], rows, null, { attrs: { id: "privacy-held-table" } });
}

function dueTable(ctx, proposals, choose) {
  if (!proposals.length) return h("p", { class: "empty", i18n: "pv_due_none" }, ctx.t("pv_due_none"));
  return table([
    { label: say(ctx, "pv_col_person"), key: "person_id" },
    { label: say(ctx, "pv_col_category"), render: (p) => say(ctx, `pv_category_${p.category}`) },
    { label: say(ctx, "pv_col_since"), key: "since" },
    { label: say(ctx, "pv_col_due"), key: "due_on" },
    { label: "", render: (p) => h("button", { type: "button", class: "link", i18n: "pv_choose",
      "aria-label": `${ctx.t("pv_choose")} ${p.person_id}`, onclick: () => choose(p) }, ctx.t("pv_choose")) },
  ], proposals, null, { attrs: { id: "privacy-due-table" } });
}

export async function privacyView(ctx, section) {
  const notices = new Notices(ctx.language);
  const due = h("div", { id: "privacy-due" });
  const held = h("div", { id: "privacy-held", "aria-live": "polite" });
  const person = h("input", { type: "text", name: "person", autocomplete: "off", maxlength: 64 });
  const show = h("button", { type: "submit", i18n: "pv_show" }, ctx.t("pv_show"));
  const fetchBook = h("button", { type: "button", i18n: "pv_download" }, ctx.t("pv_download"));
  const lookup = h("form", { id: "privacy-person", "aria-labelledby": "privacy-person-title" },
    h("h3", { id: "privacy-person-title", i18n: "pv_person_title" }),
    field("privacy-person-id", "pv_person", person, { required: true, hint: "pv_person_hint" }),
    h("div", { class: "actions" }, show, fetchBook));
  const reason = h("textarea", { name: "reason", rows: 2, maxlength: 500 });
  const confirm = h("input", { type: "checkbox", name: "confirm" });
  const erase = h("form", { id: "privacy-erase", "aria-labelledby": "privacy-erase-title" },
    h("h3", { id: "privacy-erase-title", i18n: "pv_erase_title" }),
    field("privacy-reason", "pv_reason", reason, { required: true, hint: "pv_reason_hint" }),
    field("privacy-confirm", "pv_confirm", confirm, { required: true }),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "danger", i18n: "pv_erase" }, ctx.t("pv_erase"))));
  section.append(h("h2", { id: "view-title", tabindex: -1, i18n: "view_privacy" }),
    h("p", { class: "hint", i18n: "pv_intro" }), notices.node,
    h("section", { "aria-labelledby": "privacy-due-title" },
      h("h3", { id: "privacy-due-title", i18n: "pv_due_title" }),
      h("p", { class: "hint", i18n: "pv_due_hint" }), due),
    lookup, held, erase);

  let proposals = [];
  let shown = null;
  const choose = (p) => {
    person.value = p.person_id;
    person.focus();
  };
  const render = () => {
    due.replaceChildren(dueTable(ctx, proposals, choose));
    held.replaceChildren(...(shown ? [
      h("h3", { id: "privacy-held-title" }, say(ctx, "pv_held_title", { person: shown.person_id })),
      heldTable(ctx, shown),
    ] : []));
  };
  const loadDue = async () => {
    try {
      proposals = (await ctx.api.get("enrollment", "/people/erasure-proposals")).proposals;
      render();
    } catch (error) {
      notices.error(error);
    }
  };
  const who = () => person.value.trim();

  lookup.noValidate = true;
  lookup.addEventListener("submit", async (event) => {
    event.preventDefault();
    notices.clear();
    if (!who()) {
      notices.alert("err_422", { fields: ctx.t("pv_person") });
      return;
    }
    notices.status("loading");
    try {
      shown = await ctx.api.get("enrollment", `/people/${encodeURIComponent(who())}/data`);
      notices.clear();
      render();
    } catch (error) {
      notices.error(error);
    }
  });
  fetchBook.addEventListener("click", async () => {
    notices.clear();
    if (!who()) {
      notices.alert("err_422", { fields: ctx.t("pv_person") });
      return;
    }
    try {
      const file = await download(ctx, who());
      notices.status("pv_downloaded", { file }, "ok");
    } catch (error) {
      notices.error(error);
    }
  });
  bindForm(erase, {
    language: ctx.language,
    notices,
    read: (f) => ({ person: who(), reason: f.elements.reason.value.trim(), confirm: f.elements.confirm.checked }),
    check: (v) => [
      ...(v.reason ? [] : [{ field: "reason", key: "required" }]),
      ...(v.confirm ? [] : [{ field: "confirm", key: "required" }]),
      ...(v.person ? [] : [{ field: "person", key: "required" }]),
    ],
    keyOf: (v) => ({ person: v.person, reason: v.reason }),
    send: (v, key) => ctx.api.request("enrollment", `/people/${encodeURIComponent(v.person)}/erasure`,
      { method: "POST", key, body: { reason: v.reason } }),
    done: async ({ data }) => {
      const at = String(data.erased_at).slice(0, 16).replace("T", " ");
      notices.status(data.already ? "pv_already" : "pv_erased", { person: data.person_id, at }, "ok");
      erase.reset();
      shown = null;
      // Erased now (the key is gone); the list's read model learns it a moment later.
      proposals = proposals.filter((p) => p.person_id !== data.person_id);
      render();
    },
  });
  await loadDue();
  return { relabel: render };
}
