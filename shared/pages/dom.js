// Building the pages' elements: every value from an API reaches the page as text (textContent,
// attributes), never as HTML. Shared by the dashboard and the workbench (/pages/dom.js).

export const $ = (selector, root = document) => root.querySelector(selector);

// What a child or attribute left out looks like: null, undefined or false.
const present = (value) => value !== null && value !== undefined && value !== false;

// h("button", {type: "button", onclick: f, dataset: {id}}, "text", node, [more]): an element.
// ``i18n: key`` (with ``i18nValues``) labels it through i18n.js, relabelled when the language
// changes; ``null``/``false`` attributes and children are left out.
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (!present(value)) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "i18n") node.dataset.i18n = value;
    else if (name === "i18nValues") node.dataset.i18nValues = JSON.stringify(value);
    else if (name === "i18nLabel") node.dataset.i18nLabel = value; // aria-label
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.flat().filter(present)
    .map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
  return node;
}

// node.replaceChildren(...) without the children left out (null, undefined, false), which
// replaceChildren() itself would show as the text "null".
export const show = (node, ...children) =>
  node.replaceChildren(...children.flat().filter(present));

// A value as a cell shows it: "—" for nothing, lists joined.
export function fmt(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (Array.isArray(value)) return value.join(", ");
  return String(value);
}

// An ISO instant as "YYYY-MM-DD HH:MM:SS UTC".
export function when(iso) {
  if (!iso) return "—";
  return String(iso).replace("T", " ").replace(/\.\d+/, "").replace(/(\+00:00|Z)$/, " UTC");
}

// A table: columns [{label, key?, render?(row), numeric?}], rows, an optional footer row; the
// table's own attributes and each row's (rowAttrs(row)). The header cells are column headers
// (scope=col), so a screen reader names each cell's column.
export function table(columns, rows, footer = null, { attrs = {}, rowAttrs = () => ({}) } = {}) {
  const head = h("thead", {}, h("tr", {}, columns.map((c) =>
    h("th", { scope: "col", class: c.numeric ? "num" : null }, c.label))));
  const body = h("tbody", {}, rows.map((row) => h("tr", rowAttrs(row), columns.map((c) =>
    h("td", { class: c.numeric ? "num" : null }, c.render ? c.render(row) : fmt(row[c.key]))))));
  const foot = footer ? h("tfoot", {}, h("tr", {}, footer.map((cell, i) =>
    h(i === 0 ? "th" : "td", { class: i > 0 ? "num" : null, scope: i === 0 ? "row" : null },
      cell ?? "")))) : null;
  return h("table", attrs, head, body, foot);
}
