// English and Chinese labels, switchable, for every page (/pages/i18n.js).
//
// A page makes one Language from its label tables, key -> [English, Chinese] (later tables win
// over earlier ones; the common table of labels.js comes first) and labels its elements by key:
//   <span data-i18n="sign_in">              its text
//   data-i18n-values='{"n": 3}'            the values "{n}" stands for in that text
//   data-i18n-label="language_switch"       its aria-label (a control without visible text)
//   data-i18n-placeholder="search_hint"     an input's placeholder
// apply() relabels the whole document, so a language change keeps what people typed; a page
// re-renders what it wrote with t() itself (onChange). A key missing from the tables shows as
// itself (so a gap is visible, not blank).

import { COMMON_LABELS } from "./labels.js";

export const LANGUAGES = ["en", "zh"];
const STORE = "gradeline.lang";

export class Language {
  constructor(...tables) {
    this.tables = { en: {}, zh: {} };
    for (const table of [COMMON_LABELS, ...tables]) {
      for (const [key, texts] of Object.entries(table)) {
        LANGUAGES.forEach((lang, n) => (this.tables[lang][key] = texts[n]));
      }
    }
    this.lang = "en";
    this.listeners = new Set();
  }

  // ?lang= on the address, else the choice made before (this browser), else English.
  read(query = new URLSearchParams(location.search)) {
    const chosen = query.get("lang") || localStorage.getItem(STORE) || "en";
    this.lang = LANGUAGES.includes(chosen) ? chosen : "en";
    localStorage.setItem(STORE, this.lang);
    return this;
  }

  // The text of ``key`` with its "{name}"s filled in; a value {key: "svc_training"} is itself
  // a label (so that a message kept on the page relabels whole).
  t(key, values = {}) {
    const text = this.tables[this.lang][key] ?? this.tables.en[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (_, name) => {
      const value = values[name];
      if (value && typeof value === "object" && value.key) return this.t(value.key);
      return String(value ?? "");
    });
  }

  onChange(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  choose(lang) {
    this.lang = LANGUAGES.includes(lang) ? lang : "en";
    localStorage.setItem(STORE, this.lang);
    this.apply();
    for (const listener of [...this.listeners]) listener(this.lang);
  }

  toggle() {
    this.choose(this.lang === "zh" ? "en" : "zh");
  }

  // Relabels everything marked under ``root``, the document's language, and the switch (it
  // offers the other language, named in that language).
  apply(root = document) {
    document.documentElement.lang = this.lang === "zh" ? "zh-CN" : "en";
    for (const node of root.querySelectorAll("[data-i18n]")) {
      const values = node.dataset.i18nValues ? JSON.parse(node.dataset.i18nValues) : {};
      node.textContent = this.t(node.dataset.i18n, values);
    }
    for (const node of root.querySelectorAll("[data-i18n-label]")) {
      node.setAttribute("aria-label", this.t(node.dataset.i18nLabel));
    }
    for (const node of root.querySelectorAll("[data-i18n-placeholder]")) {
      node.placeholder = this.t(node.dataset.i18nPlaceholder);
    }
    for (const toggle of root.querySelectorAll("[data-language-switch]")) {
      toggle.textContent = this.lang === "zh" ? "English" : "中文";
      toggle.lang = this.lang === "zh" ? "en" : "zh";
    }
  }

  // The button that switches between the two languages.
  bindSwitch(button) {
    button.dataset.languageSwitch = "";
    button.addEventListener("click", () => this.toggle());
  }
}
