// Names where people read them: a branch by its name in the page's language (branch_name_zh in
// 中文, branch_name_en in English), a person by name. The services answer the id in place of a
// name they have not learnt yet, so a name is never missing; the id stays beside a name that
// differs from it (small, muted) and in the title, so that ids remain findable.

export function branchName(row, lang, key = "branch_id") {
  const name = lang === "zh" ? row.branch_name_zh : row.branch_name_en;
  return name || row[key] || "";
}

export function personName(row, idKey, nameKey) {
  const name = row[nameKey];
  return name === ERASED ? erasedLabel() : name || row[idKey] || "";
}

// What the services answer in place of a person's name, certificate or text once the person's
// data was erased (docs/privacy.md), and how a page says it in its language.
export const ERASED = "[erased]";
export function erasedLabel() {
  return document.documentElement.lang.startsWith("zh") ? "已删除" : "erased";
}

// A name with its id: <span class="named" title="id">name <small class="id">id</small></span>;
// an erased name reads "erased" (已删除), the id beside it.
export function named(name, id) {
  const node = document.createElement("span");
  node.className = name === ERASED ? "named erased" : "named";
  node.dataset.id = id ?? "";
  node.title = id ?? "";
  node.append(document.createTextNode(name === ERASED ? erasedLabel() : name || id || "—"));
  if (id && name && name !== id) {
    const small = document.createElement("small");
    small.className = "id";
    small.textContent = id;
    node.append(" ", small);
  }
  return node;
}

// Branch names seen on the boards, by id, to name a branch where only its id is at hand (the
// branch filter's options, a drill-down's title).
export class BranchNames {
  constructor() {
    this.rows = new Map();
  }

  learn(rows, key = "branch_id") {
    for (const row of rows ?? []) {
      if (row[key]) this.rows.set(row[key], row);
    }
  }

  name(id, lang) {
    const row = this.rows.get(id);
    return row ? branchName(row, lang) : id;
  }
}
