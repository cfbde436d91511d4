// The app: who is signed in, the navigation bar, and a hash router that mounts one view at a
// time. A view is `async (ctx, ...params) => Node`; what it opens (event streams, timers) it
// registers with ctx.onDispose, and leaving the view closes them.

import {get, logout} from "./api.js";
import {errorBox, h, mount, stateName} from "./dom.js";
import {dagListView} from "./views/dags.js";
import {dagView} from "./views/dag.js";
import {taskInstanceView} from "./views/task_instance.js";
import {workersView} from "./views/workers.js";
import {adminView} from "./views/admin.js";

const ROLES = ["viewer", "user", "op", "admin"];

const ROUTES = [
  [/^#?\/?$/, dagListView],
  [/^#\/dags\/?$/, dagListView],
  [/^#\/dags\/([^/]+)\/runs\/([^/]+)\/tasks\/([^/]+)(?:\/(-?\d+))?$/, taskInstanceView],
  [/^#\/dags\/([^/]+)(?:\/(grid|graph|gantt|runs|source|trigger|details))?$/, dagView],
  [/^#\/workers$/, workersView],
  [/^#\/admin\/(variables|connections|pools|users|tokens|audit)$/, adminView],
];

let me = null;
let disposers = [];

/** Whether the signed-in user has at least `role` (viewer < user < op < admin). */
export function can(role) {
  return me !== null && ROLES.indexOf(stateName(me.role)) >= ROLES.indexOf(role);
}

function nav() {
  const link = (href, label, role) => (role && !can(role)) ? null
    : h("a", {href, class: window.location.hash.startsWith(href) ? "active" : null}, label);
  return h("nav", {},
    h("a", {href: "#/dags", class: "brand"}, "Flow"),
    link("#/dags", "DAGs"), link("#/workers", "Workers"),
    link("#/admin/variables", "Variables"), link("#/admin/connections", "Connections"),
    link("#/admin/pools", "Pools"), link("#/admin/tokens", "Tokens"),
    link("#/admin/users", "Users", "admin"), link("#/admin/audit", "Audit log", "admin"),
    h("span", {class: "spacer"}),
    h("span", {class: "who", id: "whoami"}, `${me.username} (${stateName(me.role)})`),
    me.credential === "session"
      ? h("button", {id: "logout", class: "link", onclick: () => logout()}, "Sign out") : null);
}

async function route() {
  for (const dispose of disposers) { try { dispose(); } catch { /* already closed */ } }
  disposers = [];
  delete document.body.dataset.live; // set again by a view whose event stream opens
  const hash = window.location.hash || "#/dags";
  const main = document.getElementById("main");
  mount(document.getElementById("top"), nav());
  for (const [pattern, view] of ROUTES) {
    const match = hash.split("?")[0].match(pattern);
    if (!match) continue;
    const params = match.slice(1).map((p) => (p === undefined ? undefined : decodeURIComponent(p)));
    const ctx = {
      can, me, query: new URLSearchParams(hash.split("?")[1] || ""),
      onDispose: (fn) => disposers.push(fn),
    };
    const token = {};
    route.current = token;
    try {
      const node = await view(ctx, ...params);
      if (route.current === token) mount(main, node);
    } catch (error) {
      if (route.current === token) mount(main, errorBox(error));
    }
    return;
  }
  mount(main, errorBox(new Error(`No page at ${hash}.`)));
}

async function start() {
  try {
    me = await get("/whoami");
  } catch (error) {
    mount(document.getElementById("main"), errorBox(error));
    return;
  }
  document.body.dataset.role = stateName(me.role);
  window.addEventListener("hashchange", route);
  await route();
}

start();
