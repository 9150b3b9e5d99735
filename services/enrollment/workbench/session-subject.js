// R-24 as now written: the manager's session form (sessions.js) opens a session for a product
// series or for one training content: an R-7a content code or an R-8a mandatory topic, the list
// assessment accepts (services/assessment/domain/vocabulary.py).

import { h } from "../pages/dom.js";
import { field } from "../pages/forms.js";

export const CONTENTS = [
  "circuit_diagrams", "electrical_components", "power_tools", "assembly", "commissioning",
  "working_principle", "product_structure", "circuit_principles", "mechanical_structure",
  "maintenance", "program_install", "fault_analysis", "fault_repair", "electrical_principles",
  "program_modification", "parts_repair",
  "company_processes", "department_responsibilities", "travel_policy", "appraisal_rules",
];

// The "Session for" choice and the content field; ``seriesField`` (the form's product series
// field) shows for a series only. ``read(form)`` gives the body's series or content.
export function subjectFields(seriesField) {
  const kind = h("select", { name: "subject" },
    h("option", { value: "series", i18n: "r_subject_series" }),
    h("option", { value: "content", i18n: "r_subject_content" }));
  const content = h("select", { name: "content" }, h("option", { value: "", i18n: "choose" }),
    CONTENTS.map((c) => h("option", { value: c, i18n: `r_content_${c}` })));
  const contentField = field("session-content", "r_f_content", content, { required: true });
  const sync = () => {
    seriesField.hidden = kind.value !== "series";
    contentField.hidden = kind.value !== "content";
  };
  kind.addEventListener("change", sync);
  sync();
  const read = (form) => (kind.value === "content"
    ? { content: form.elements.content.value }
    : { product_series: form.elements.product_series.value.trim() });
  return { nodes: [field("session-subject", "r_f_session_for", kind), seriesField, contentField], read };
}
