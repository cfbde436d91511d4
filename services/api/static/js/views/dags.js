// The DAG list: search, tag filter, paused toggle, schedule and next run, recent run states,
// and a banner of the files that failed to import. Run states follow the event stream.

import {get, getAll, patch, path, stream} from "../api.js";
import {badge, errorBox, fmtDate, h, mount} from "../dom.js";

const RECENT_RUNS = 8;

function importErrors(errors) {
  if (!errors.length) return null;
  return h("section", {class: "error import-errors", role: "alert"},
    h("b", {}, `${errors.length} DAG file(s) failed to import`),
    errors.map((e) => h("details", {class: "import-error"},
      h("summary", {}, e.filename),
      h("pre", {}, e.stacktrace))));
}

export async function dagListView(ctx) {
  const [dags, errors] = await Promise.all([
    getAll("/dags", "dags"), getAll("/importErrors", "import_errors")]);
  const runsByDag = new Map();
  await Promise.all(dags.map(async (dag) => {
    try {
      const page = await get(path`/dags/${dag.dag_id}/dagRuns`, {page_size: RECENT_RUNS});
      runsByDag.set(dag.dag_id, page.dag_runs || []);
    } catch { runsByDag.set(dag.dag_id, []); }
  }));
  const tags = [...new Set(dags.flatMap((d) => d.tags || []))].sort();
  const search = h("input", {type: "search", id: "dag-search", placeholder: "Search DAGs",
    value: ctx.query.get("q") || ""});
  const tagSelect = h("select", {id: "tag-filter"}, h("option", {value: ""}, "All tags"),
    tags.map((t) => h("option", {value: t}, t)));
  const onlyActive = h("select", {id: "paused-filter"}, h("option", {value: ""}, "All"),
    h("option", {value: "active"}, "Active"), h("option", {value: "paused"}, "Paused"));
  const tbody = h("tbody", {});
  const message = h("div", {});

  function row(dag) {
    const runs = runsByDag.get(dag.dag_id) || [];
    const toggle = h("input", {type: "checkbox", class: "pause-toggle", checked: !dag.is_paused,
      title: dag.is_paused ? "Paused: click to unpause" : "Active: click to pause",
      disabled: !ctx.can("user"), "aria-label": `Active: ${dag.dag_id}`,
      onchange: async () => {
        try {
          const out = await patch(path`/dags/${dag.dag_id}`, {is_paused: !toggle.checked});
          dag.is_paused = out.dag.is_paused;
          render();
        } catch (error) { mount(message, errorBox(error)); toggle.checked = !dag.is_paused; }
      }});
    return h("tr", {class: "dag-row", dataset: {dagId: dag.dag_id}},
      h("td", {}, toggle),
      h("td", {}, h("a", {href: `#/dags/${encodeURIComponent(dag.dag_id)}/grid`, class: "dag-link"},
        dag.dag_id), dag.description ? h("div", {class: "muted"}, dag.description) : null),
      h("td", {}, (dag.tags || []).map((t) => h("span", {class: "tag"}, t))),
      h("td", {}, dag.schedule === "None" ? h("span", {class: "muted"}, "None") : dag.schedule),
      h("td", {}, fmtDate(dag.next_dagrun)),
      h("td", {class: "recent-runs"}, runs.length ? runs.map((run) => h("a", {
        href: `#/dags/${encodeURIComponent(dag.dag_id)}/grid`, title: `${run.run_id}`},
      badge(run.state, ""))) : h("span", {class: "muted"}, "no runs")),
      h("td", {}, ctx.can("user") ? h("a", {class: "button small",
        href: `#/dags/${encodeURIComponent(dag.dag_id)}/trigger`}, "Trigger") : null));
  }

  function render() {
    const q = search.value.trim().toLowerCase();
    const tag = tagSelect.value;
    const paused = onlyActive.value;
    const shown = dags.filter((d) =>
      (!q || d.dag_id.toLowerCase().includes(q) || (d.description || "").toLowerCase().includes(q))
      && (!tag || (d.tags || []).includes(tag))
      && (!paused || (paused === "paused") === Boolean(d.is_paused)));
    mount(tbody, shown.length ? shown.map(row)
      : h("tr", {}, h("td", {colspan: 7, class: "muted"}, "No DAGs match.")));
  }
  search.addEventListener("input", render);
  tagSelect.addEventListener("change", render);
  onlyActive.addEventListener("change", render);
  render();

  // A run's state change refreshes that DAG's recent runs (coalesced per DAG).
  const pending = new Set();
  let timer = null;
  ctx.onDispose(stream("/events", {}, {state_change: (data) => {
    const change = data && data.change;
    if (!change || (change.task_instance_key && change.task_instance_key.task_id)) return;
    pending.add(change.dag_id);
    if (timer) return;
    timer = setTimeout(async () => {
      timer = null;
      const ids = [...pending];
      pending.clear();
      await Promise.all(ids.map(async (id) => {
        try {
          const page = await get(path`/dags/${id}/dagRuns`, {page_size: RECENT_RUNS});
          runsByDag.set(id, page.dag_runs || []);
        } catch { /* the DAG may be gone */ }
      }));
      render();
    }, 150);
  }}));
  ctx.onDispose(() => timer && clearTimeout(timer));

  return h("div", {class: "view dags-view"},
    importErrors(errors), message,
    h("div", {class: "toolbar"}, h("h1", {}, "DAGs"), search, tagSelect, onlyActive),
    h("table", {class: "list", id: "dag-table"},
      h("thead", {}, h("tr", {}, ["Active", "DAG", "Tags", "Schedule", "Next run",
        "Recent runs", ""].map((c) => h("th", {}, c)))), tbody));
}

