// Forms that send to the services, for every page (/pages/forms.js): what people are told, the
// errors beside the fields, a submission's Idempotency-Key, and the 412 offer to reload.
//
// Markup a form uses (dom.js's field() builds it):
//   <div class="field"><label for="x">…</label><input id="x" name="x" aria-describedby="x-error">
//     <p class="field-error" id="x-error" hidden></p></div>
// and one Notices per form or view: a role=alert line (errors, announced at once), a
// role=status line (progress and success, announced politely) and a place for actions (Reload).

import { h } from "./dom.js";
import { ApiError, newKey } from "./api.js";

// The Idempotency-Key of one submission: made when the person first sends this content, and
// kept while the same content is sent again (a double click, a retry after a lost answer), so
// the service stores it once; other content is another submission, with a new key, and so is
// anything sent after the service's final answer (settled()).
export class Submission {
  constructor() {
    this.content = null;
    this.key = null;
  }

  keyFor(content) {
    const text = typeof content === "string" ? content : JSON.stringify(content);
    if (text !== this.content) {
      this.content = text;
      this.key = newKey();
    }
    return this.key;
  }

  // Stored: the next submission, even of the same content, is a new one.
  settled() {
    this.content = null;
    this.key = null;
  }
}

// A label, control and error line; ``control`` is an input/select/textarea element whose id
// and name are set here. ``hint``: a label key for a line under the control.
export function field(id, labelKey, control, { hint = null, required = false } = {}) {
  control.id = id;
  control.name ||= id; // a control without a name of its own is named by its id
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  control.setAttribute("aria-describedby", [hintId, errorId].filter(Boolean).join(" "));
  if (required) control.setAttribute("aria-required", "true");
  return h("div", { class: "field", dataset: { field: control.name } },
    // The mark of a required field stays out of the label: the label is the control's name.
    h("div", { class: "label-line" }, h("label", { for: id }, h("span", { i18n: labelKey })),
      required ? h("span", { class: "req", "aria-hidden": "true" }, "*") : null),
    control,
    hint ? h("p", { class: "hint", id: hintId, i18n: hint }) : null,
    h("p", { class: "field-error", id: errorId, hidden: true }));
}

// The field a problem's error names: "body.enrolled_on" and "enrolled_on" alike,
// "body.certificates.2" is "certificates".
export function fieldName(path) {
  return String(path ?? "").replace(/^body\./, "").split(".")[0];
}

export function clearFieldErrors(form) {
  for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
  for (const line of form.querySelectorAll(".field-error")) {
    line.textContent = "";
    line.hidden = true;
  }
}

// Each error beside its field ({field, message} or {field, key}: a label key); returns the
// labels of the fields marked (for the summary) and the errors no field of the form shows.
export function showFieldErrors(form, errors, language) {
  const marked = [];
  const unplaced = [];
  for (const error of errors) {
    const name = fieldName(error.field);
    const box = form.querySelector(`.field[data-field="${CSS.escape(name)}"]`);
    if (!box) {
      unplaced.push(error);
      continue;
    }
    const control = box.querySelector("input, select, textarea");
    const line = box.querySelector(".field-error");
    const text = error.key ? language.t(error.key) : error.message;
    const rule = error.rule ? ` (${error.rule})` : "";
    line.textContent = line.hidden ? `${text}${rule}` : `${line.textContent} ${text}${rule}`;
    line.hidden = false;
    control.setAttribute("aria-invalid", "true");
    const label = box.querySelector("label")?.textContent ?? name;
    if (!marked.includes(label)) marked.push(label);
  }
  form.querySelector("[aria-invalid]")?.focus();
  return { marked, unplaced };
}

// What a page tells people about one form or view: errors in a role=alert line (announced at
// once), progress and success in a role=status line; texts by label key (relabelled when the
// language changes), or as given (a service's detail).
export class Notices {
  constructor(language) {
    this.language = language;
    this.alertLine = h("p", { class: "message error", role: "alert", hidden: true });
    this.statusLine = h("p", { class: "message info", role: "status", hidden: true });
    this.actions = h("div", { class: "actions", hidden: true });
    this.node = h("div", { class: "notices" }, this.alertLine, this.actions, this.statusLine);
  }

  static write(line, key, values) {
    line.dataset.i18n = key;
    line.dataset.i18nValues = JSON.stringify(values);
    line.hidden = false;
  }

  alert(key, values = {}) {
    Notices.write(this.alertLine, key, values);
    this.alertLine.textContent = this.language.t(key, values);
    this.statusLine.hidden = true;
  }

  status(key, values = {}, kind = "info") {
    Notices.write(this.statusLine, key, values);
    this.statusLine.textContent = this.language.t(key, values);
    this.statusLine.className = `message ${kind}`;
  }

  // A button beside the alert (e.g. Reload after a 412).
  offer(labelKey, action) {
    this.actions.replaceChildren(h("button", { type: "button", i18n: labelKey, onclick: action },
      this.language.t(labelKey)));
    this.actions.hidden = false;
  }

  clear() {
    for (const line of [this.alertLine, this.statusLine]) {
      line.hidden = true;
      line.textContent = "";
      delete line.dataset.i18n;
    }
    this.actions.replaceChildren();
    this.actions.hidden = true;
  }

  // An ApiError (or anything thrown) said in words: which service, what it answered.
  error(error, { fields = [] } = {}) {
    if (!(error instanceof ApiError)) {
      this.alert("err_other", { service: "", status: "", detail: String(error?.message ?? error) });
      return;
    }
    const service = { key: `svc_${error.service}` };
    const detail = error.detail ?? "";
    switch (error.status) {
      case 0: return this.alert("err_network", { service, url: error.url });
      case 401: return this.alert("err_401", { service }); // signin.js offers to sign in again
      case 403: return this.alert("err_403", { service, detail });
      case 404: return this.alert(error.waited ? "err_waited" : "err_404", { service, detail });
      case 409: return this.alert("err_409", { service, detail });
      case 412: return this.alert("err_412");
      case 422:
        if (fields.length) return this.alert("err_422", { fields: fields.join(", ") });
        return this.alert("err_other", { service, status: 422, detail: describeErrors(error, detail) });
      default: return this.alert("err_other", { service, status: error.status, detail });
    }
  }
}

function describeErrors(error, detail) {
  const listed = error.errors.map((e) => `${fieldName(e.field)}: ${e.message}`).join("; ");
  return listed || detail;
}

// The submit handler of ``form``: checks it (``check(values)`` returns errors as
// showFieldErrors takes them), then ``send(values, key)`` with the submission's key, and
// ``done(answer)``. While it is being sent the form is busy (aria-busy, submit disabled): a
// second click meanwhile does nothing, and one after a lost answer sends the same key again
// (``keyOf(values)``: what makes two submissions the same; the values themselves by default).
// 422 errors go beside their fields; a 412 offers ``reload`` when given; ``failed(error)``
// answering true has told the person itself.
export function bindForm(form, {
  language, notices, read, check = () => [], send, done, reload = null,
  keyOf = (values) => values, failed = () => false,
}) {
  const submission = new Submission();
  form.noValidate = true; // checked here: the browser's own bubbles are neither announced nor in the page's language
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return;
    clearFieldErrors(form);
    notices.clear();
    const values = read(form);
    const problems = check(values);
    if (problems.length) {
      const { marked } = showFieldErrors(form, problems, language);
      notices.alert("err_422", { fields: marked.join(", ") });
      return;
    }
    const key = submission.keyFor(keyOf(values));
    busy(form, true);
    notices.status("loading");
    try {
      const answer = await send(values, key);
      submission.settled();
      notices.clear();
      await done(answer);
    } catch (error) {
      // A 4xx is the service's final word on this submission (stored under its key, replayed
      // to a repeat): what the person sends next is a new submission. Without an answer (0) or
      // with a 5xx the same content is the same submission, sent again under its key.
      if (!(error instanceof ApiError) || (error.status >= 400 && error.status < 500)) {
        submission.settled();
      }
      notices.clear();
      if (failed(error)) return;
      const placed = error instanceof ApiError && error.status === 422
        ? showFieldErrors(form, error.errors, language) : { marked: [], unplaced: [] };
      notices.error(error, { fields: placed.unplaced.length ? [] : placed.marked });
      if (error instanceof ApiError && error.status === 412 && reload) notices.offer("reload", reload);
    } finally {
      busy(form, false);
    }
  });
  return submission;
}

function busy(form, on) {
  form.setAttribute("aria-busy", String(on));
  for (const button of form.querySelectorAll("button[type=submit]")) button.disabled = on;
}
