// Building the DOM from data, safely: every string becomes a text node or an attribute value,
// never markup. This module is the only place that creates elements, and no module uses an
// HTML sink (tests/unit/test_ui_static.py checks).

const SVG_NS = "http://www.w3.org/2000/svg";

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function setAttrs(node, attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      node.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    } else if (name === "style") {
      node.style.cssText = value; // CSSOM: allowed by the page's CSP (no inline style attribute)
    } else if (name === "dataset") {
      Object.assign(node.dataset, value);
    } else if (name === "value" || name === "checked" || name === "disabled") {
      node[name] = value;
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
}

/** An HTML element: h("a", {href: "#/x", class: "c"}, "text", child, [more]). */
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  return append(node, children);
}

/** An SVG element, the same way. */
export function s(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  return append(node, children);
}

/** Replace a node's children. */
export function mount(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

/** "TASK_INSTANCE_STATE_UP_FOR_RETRY" -> "up_for_retry" ("" stays ""). */
export function stateName(value) {
  if (!value) return "none";
  return String(value).replace(/^(TASK_INSTANCE_STATE_|DAG_RUN_STATE_|WORKER_STATE_|ROLE_)/, "")
    .toLowerCase().replace("unspecified", "none");
}

/** A state badge: colour by class, the name as text. */
export function badge(state, label) {
  const name = stateName(state);
  return h("span", {class: ["state", `st-${name}`], title: name}, label ?? name);
}

export function fmtDate(value) {
  if (!value) return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1971) return "";
  return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "";
  const s = Number(seconds);
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} m ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} m`;
}

/** A table from column names and rows of cells (strings or nodes). */
export function table(columns, rows, attrs) {
  return h("table", attrs || {},
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", {}, c)))),
    h("tbody", {}, rows.length ? rows.map((row) => h("tr", {}, row.map((c) => h("td", {}, c))))
      : h("tr", {}, h("td", {colspan: columns.length, class: "muted"}, "Nothing here yet."))));
}

/** An error banner from an ApiError (or any error). */
export function errorBox(error) {
  return h("div", {class: "error", role: "alert"},
    error.reason ? h("b", {}, `${error.reason}: `) : null, error.message || String(error));
}
