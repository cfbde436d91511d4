// Admin pages: variables, connections (passwords are write-only: the API masks them), pools
// with their occupancy, users, API tokens and the audit log. Forms show only to roles that may
// use them; the gateway checks again.

import {del, get, getAll, patch, path, post} from "../api.js";
import {errorBox, fmtDate, h, mount, stateName, table} from "../dom.js";

function form(id, fields, submitLabel, onSubmit, message) {
  const inputs = Object.fromEntries(fields.map(([name, attrs]) => [name, attrs.tag === "select"
    ? h("select", {name, id: `${id}-${name}`}, attrs.options.map((o) => h("option", {value: o}, o)))
    : h("input", {name, id: `${id}-${name}`, ...attrs})]));
  const node = h("form", {class: "inline-form", id},
    fields.map(([name, attrs]) => h("label", {}, attrs.label || name, " ", inputs[name])),
    h("button", {type: "submit"}, submitLabel));
  node.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = Object.fromEntries(Object.entries(inputs).map(([k, input]) =>
      [k, input.type === "checkbox" ? input.checked : input.value]));
    try { await onSubmit(values); node.reset(); mount(message); }
    catch (error) { mount(message, errorBox(error)); }
  });
  return node;
}

function removeButton(label, fn, message, reload) {
  return h("button", {class: "small danger", onclick: async () => {
    if (!window.confirm(`${label}?`)) return;
    try { await fn(); await reload(); } catch (error) { mount(message, errorBox(error)); }
  }}, "Delete");
}

const PAGES = {
  async variables(ctx, message, reload) {
    const items = await getAll("/variables", "variables");
    return [
      ctx.can("op") ? form("variable-form", [["key", {required: true}], ["value", {}],
        ["description", {}]], "Set", (v) => post("/variables", v).then(reload), message) : null,
      table(["Key", "Value", "Description", ""], items.map((v) => [v.key,
        h("pre", {class: "inline"}, v.value), v.description,
        ctx.can("op") ? removeButton(`Delete variable ${v.key}`, () => del(path`/variables/${v.key}`), message, reload) : null]),
      {class: "list", id: "variables-table"})];
  },
  async connections(ctx, message, reload) {
    const items = await getAll("/connections", "connections");
    return [
      ctx.can("op") ? form("connection-form", [["conn_id", {required: true}],
        ["conn_type", {required: true}], ["host", {}], ["port", {type: "number"}],
        ["login", {}], ["password", {type: "password", autocomplete: "new-password"}],
        ["schema", {}]], "Add", (v) => post("/connections",
        {...v, port: v.port ? Number(v.port) : 0}).then(reload), message) : null,
      table(["Conn id", "Type", "Host", "Port", "Login", "Password", "Schema", ""], items.map((c) => [
        c.conn_id, c.conn_type, c.host, c.port ? String(c.port) : "", c.login,
        c.password ? "***" : "", c.schema,
        ctx.can("op") ? removeButton(`Delete connection ${c.conn_id}`, () => del(path`/connections/${c.conn_id}`), message, reload) : null]),
      {class: "list", id: "connections-table"})];
  },
  async pools(ctx, message, reload) {
    const items = await getAll("/pools", "pools");
    return [
      ctx.can("op") ? form("pool-form", [["name", {required: true}], ["slots", {type: "number", required: true}],
        ["description", {}]], "Create", (v) => post("/pools", {...v, slots: Number(v.slots)}).then(reload), message) : null,
      table(["Pool", "Slots", "Running", "Queued", "Scheduled", "Open", "Occupancy", "Description", ""],
        items.map((p) => {
          const used = (p.running_slots || 0) + (p.queued_slots || 0);
          const pct = p.slots > 0 ? Math.min(100, Math.round((used / p.slots) * 100)) : 0;
          return [p.name, String(p.slots), String(p.running_slots || 0), String(p.queued_slots || 0),
            String(p.scheduled_tasks || 0), String(p.open_slots || 0),
            h("div", {class: "meter", title: `${used} of ${p.slots} slots`},
              h("div", {class: "meter-fill", style: `width:${pct}%`})),
            p.description,
            ctx.can("op") && p.name !== "default_pool"
              ? removeButton(`Delete pool ${p.name}`, () => del(path`/pools/${p.name}`), message, reload) : null];
        }), {class: "list", id: "pools-table"})];
  },
  async users(ctx, message, reload) {
    const items = await getAll("/users", "users");
    const roles = ["ROLE_VIEWER", "ROLE_USER", "ROLE_OP", "ROLE_ADMIN"];
    const created = h("div", {id: "user-created"});
    return [
      form("user-form", [["username", {required: true}],
        ["role", {tag: "select", options: roles}],
        ["password", {type: "password", autocomplete: "new-password", label: "password (empty: generated)"}]],
      "Create", async (v) => {
        const out = await post("/users", v);
        await reload();
        if (out.generated_password) {
          mount(document.getElementById("user-created") || created, h("div", {class: "ok"},
            `Password of ${out.user.username} (shown once): `, h("code", {}, out.generated_password)));
        }
      }, message), created,
      table(["User", "Role", "Created", ""], items.map((u) => {
        const select = h("select", {}, roles.map((r) => h("option", {value: r, selected: r === u.role ? true : null}, stateName(r))));
        select.addEventListener("change", async () => {
          try { await patch(path`/users/${u.username}/role`, {role: select.value}); await reload(); }
          catch (error) { mount(message, errorBox(error)); }
        });
        return [u.username, select, fmtDate(u.created_at),
          removeButton(`Delete user ${u.username}`, () => del(path`/users/${u.username}`), message, reload)];
      }), {class: "list", id: "users-table"})];
  },
  async tokens(ctx, message, reload) {
    const items = await getAll("/tokens", "tokens");
    const created = h("div", {id: "token-created"});
    return [
      form("token-form", [["name", {}], ["expires_in_seconds", {type: "number", label: "expires in (s)"}]],
        "Create token", async (v) => {
          const body = {name: v.name};
          if (v.expires_in_seconds) body.expires_in_seconds = Number(v.expires_in_seconds);
          const out = await post("/tokens", body);
          await reload();
          mount(document.getElementById("token-created") || created, h("div", {class: "ok"},
            "Token secret (shown once): ", h("code", {}, out.secret)));
        }, message), created,
      table(["Id", "Name", "Prefix", "Owner", "Created", "Last used", "Expires", ""], items.map((t) => [
        t.token_id, t.name, t.prefix, t.owner, fmtDate(t.created_at), fmtDate(t.last_used_at),
        fmtDate(t.expires_at),
        h("button", {class: "small danger", onclick: async () => {
          try { await del(path`/tokens/${t.token_id}`); await reload(); }
          catch (error) { mount(message, errorBox(error)); }
        }}, "Revoke")]), {class: "list", id: "tokens-table"})];
  },
  async audit(ctx) {
    const actor = ctx.query.get("actor") || "";
    const page = await get("/auditEvents", {page_size: 200, actor});
    return [table(["When", "Actor", "Operation", "Outcome", "Details"], (page.events || []).map((e) => [
      fmtDate(e.created_at), e.actor, e.operation, e.outcome,
      Object.entries(e.details || {}).map(([k, v]) => `${k}=${v}`).join(" ")]),
    {class: "list", id: "audit-table"})];
  },
};

const TITLES = {variables: "Variables", connections: "Connections", pools: "Pools",
  users: "Users", tokens: "API tokens", audit: "Audit log"};

export async function adminView(ctx, page) {
  const message = h("div", {});
  const body = h("div", {});
  async function reload() {
    try { mount(body, await PAGES[page](ctx, message, reload)); }
    catch (error) { mount(body, errorBox(error)); }
  }
  await reload();
  return h("div", {class: "view admin-view", id: `admin-${page}`}, h("h1", {}, TITLES[page]), message, body);
}
