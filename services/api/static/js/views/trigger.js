// The trigger form, generated from the DAG's params (each a JSON Schema): a field per param,
// checked here for the obvious (required, type, enum, bounds) and by the scheduler for the
// rest: its refusal is shown with its reason, next to the field it names when it names one.

import {post, path} from "../api.js";
import {errorBox, h, mount} from "../dom.js";

function typeOf(schema, value) {
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  if (type) return type;
  if (typeof value === "boolean") return "boolean";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  if (value !== null && typeof value === "object") return Array.isArray(value) ? "array" : "object";
  return "string";
}

function field(name, spec) {
  const schema = spec.schema || {};
  const hasDefault = Object.prototype.hasOwnProperty.call(spec, "default");
  const value = hasDefault ? spec.default : undefined;
  const type = typeOf(schema, value);
  const id = `param-${name}`;
  let input;
  if (Array.isArray(schema.enum)) {
    input = h("select", {id, name}, schema.enum.map((option) =>
      h("option", {value: JSON.stringify(option), selected: option === value ? true : null},
        String(option))));
  } else if (type === "boolean") {
    input = h("input", {id, name, type: "checkbox", checked: Boolean(value)});
  } else if (type === "integer" || type === "number") {
    input = h("input", {id, name, type: "number", step: type === "integer" ? "1" : "any",
      value: value ?? ""});
  } else if (type === "object" || type === "array") {
    input = h("textarea", {id, name, rows: 3, class: "mono"}, value === undefined ? "" : JSON.stringify(value, null, 2));
  } else {
    input = h("input", {id, name, type: "text", value: value ?? ""});
  }
  const message = h("div", {class: "field-error", id: `${id}-error`});
  return {name, schema, type, input, message, required: !hasDefault,
    node: h("div", {class: "field", dataset: {param: name}},
      h("label", {for: id}, name, !hasDefault ? h("span", {class: "required"}, " *") : null),
      input, spec.description ? h("div", {class: "muted"}, spec.description) : null, message)};
}

/** The field's value, or throws an Error whose message says what is wrong. */
function read(f) {
  const {input, type, schema} = f;
  let value;
  if (input.tagName === "SELECT") value = JSON.parse(input.value);
  else if (type === "boolean") value = input.checked;
  else if (type === "integer" || type === "number") {
    if (input.value === "") {
      if (f.required) throw new Error("A value is required.");
      return undefined;
    }
    value = Number(input.value);
    if (Number.isNaN(value)) throw new Error("Enter a number.");
    if (type === "integer" && !Number.isInteger(value)) throw new Error("Enter a whole number.");
    if (schema.minimum !== undefined && value < schema.minimum) throw new Error(`At least ${schema.minimum}.`);
    if (schema.maximum !== undefined && value > schema.maximum) throw new Error(`At most ${schema.maximum}.`);
  } else if (type === "object" || type === "array") {
    if (input.value.trim() === "") {
      if (f.required) throw new Error("A value is required.");
      return undefined;
    }
    try { value = JSON.parse(input.value); } catch { throw new Error("Enter valid JSON."); }
  } else {
    value = input.value;
    if (value === "" && f.required) throw new Error("A value is required.");
    if (schema.minLength !== undefined && value.length < schema.minLength) throw new Error(`At least ${schema.minLength} characters.`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) throw new Error(`At most ${schema.maxLength} characters.`);
  }
  return value;
}

export function triggerView(ctx, model) {
  const params = model.dag.params || {};
  const fields = Object.entries(params).map(([name, spec]) => field(name, spec || {}));
  const runId = h("input", {id: "trigger-run-id", type: "text", placeholder: "(generated)"});
  const result = h("div", {id: "trigger-result"});
  if (!ctx.can("user")) {
    return h("p", {class: "muted"}, "Triggering needs the user role.");
  }
  const form = h("form", {class: "trigger-form", id: "trigger-form", novalidate: true},
    fields.length ? fields.map((f) => f.node) : h("p", {class: "muted"}, "This DAG has no params."),
    h("div", {class: "field"}, h("label", {for: "trigger-run-id"}, "Run id"), runId),
    h("button", {type: "submit", id: "trigger-submit"}, "Trigger"), result);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    mount(result);
    const conf = {};
    let ok = true;
    for (const f of fields) {
      mount(f.message);
      try {
        const value = read(f);
        if (value !== undefined) conf[f.name] = value;
      } catch (error) {
        ok = false;
        mount(f.message, error.message);
      }
    }
    if (!ok) return;
    try {
      const body = {conf};
      if (runId.value.trim()) body.run_id = runId.value.trim();
      const out = await post(path`/dags/${model.dag.dag_id}/dagRuns`, body);
      const run = out.dag_run;
      window.location.hash = `#/dags/${encodeURIComponent(model.dag.dag_id)}/grid?run=` +
        encodeURIComponent(run.run_id);
    } catch (error) {
      const target = fields.find((f) => error.details && (error.details.field === f.name
        || error.details.param === f.name || error.message.includes(`'${f.name}'`)));
      if (target) mount(target.message, error.message);
      mount(result, errorBox(error));
    }
  });
  return form;
}
