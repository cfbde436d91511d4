// One DAG: its header (pause, trigger), and the tabs grid, graph, Gantt, runs, source,
// details and trigger. The grid, graph and Gantt follow the DAG's event stream.

import {get, patch, path, post} from "../api.js";
import {badge, errorBox, fmtDate, h, mount, stateName, table} from "../dom.js";
import {DagModel} from "../model.js";
import {ganttView} from "./gantt.js";
import {graphView} from "./graph.js";
import {gridView} from "./grid.js";
import {triggerView} from "./trigger.js";

const TABS = ["grid", "graph", "gantt", "runs", "source", "details", "trigger"];
// The grid starts with the newest 10 runs (as Airflow 3's grid), more on request: at a
// thousand tasks each run is a thousand task instances to read and draw.
const GRID_RUNS = 10;
const MORE_RUNS = {10: 25, 25: 50, 50: 100, 100: 250};

function runPicker(model, runId, tab) {
  if (!model.runs.length) return null;
  const select = h("select", {id: "run-picker"}, model.runs.map((run) =>
    h("option", {value: run.run_id, selected: run.run_id === runId ? true : null},
      `${run.run_id} (${stateName(run.state)})`)));
  select.addEventListener("change", () => {
    window.location.hash = `#/dags/${encodeURIComponent(model.dag.dag_id)}/${tab}?run=` +
      encodeURIComponent(select.value);
  });
  return h("label", {class: "run-picker"}, "Run ", select);
}

function runsTab(ctx, model) {
  const message = h("div", {});
  const body = h("div", {});
  const action = (label, fn) => h("button", {class: "small", onclick: async () => {
    try { await fn(); await model.loadRuns(); render(); } catch (error) { mount(message, errorBox(error)); }
  }}, label);
  function render() {
    mount(body, table(["Run", "State", "Type", "Logical date", "Start", "End", "Conf", ""],
      model.runs.map((run) => [
        h("a", {href: `#/dags/${encodeURIComponent(model.dag.dag_id)}/graph?run=${encodeURIComponent(run.run_id)}`}, run.run_id),
        badge(run.state), stateName(run.run_type).replace("dag_run_type_", ""),
        fmtDate(run.logical_date), fmtDate(run.start_date), fmtDate(run.end_date),
        h("pre", {class: "conf"}, JSON.stringify(run.conf || {}, null, 1)),
        ctx.can("user") ? h("span", {class: "actions"},
          action("Mark success", () => patch(path`/dags/${model.dag.dag_id}/dagRuns/${run.run_id}`, {state: "success"})),
          action("Mark failed", () => patch(path`/dags/${model.dag.dag_id}/dagRuns/${run.run_id}`, {state: "failed"})),
          ["queued", "running"].includes(stateName(run.state))
            ? action("Cancel", () => post(path`/dags/${model.dag.dag_id}/dagRuns/${run.run_id}/cancel`)) : null)
          : null,
      ]), {class: "list", id: "run-table"}));
  }
  ctx.onDispose(model.onChange(render));
  render();
  return h("div", {}, message, body);
}

async function sourceTab(model) {
  const out = await get(path`/dags/${model.dag.dag_id}/source`);
  return h("div", {}, h("p", {class: "muted"}, out.fileloc),
    h("pre", {class: "source", id: "dag-source"}, out.content));
}

function detailsTab(model) {
  const dag = model.dag;
  return h("div", {class: "details"},
    table(["Field", "Value"], [
      ["DAG id", dag.dag_id], ["File", dag.fileloc], ["Schedule", dag.schedule],
      ["Next run", fmtDate(dag.next_dagrun)], ["Timezone", dag.timezone || ""],
      ["Owners", (dag.owners || []).join(", ")], ["Tags", (dag.tags || []).join(", ")],
      ["Tasks", String(model.tasks.length)], ["Max active runs", String(dag.max_active_runs || "")],
      ["Last parsed", fmtDate(dag.last_parsed_time)]]),
    h("h3", {}, "Documentation"),
    dag.doc_md ? h("pre", {class: "doc", id: "dag-doc"}, dag.doc_md) : h("p", {class: "muted"}, "None."),
    h("h3", {}, "Params"),
    h("pre", {class: "doc", id: "dag-params"}, JSON.stringify(dag.params || {}, null, 2)));
}

export async function dagView(ctx, dagId, tab = "grid") {
  const shownRun = ctx.query.get("run");
  const tiRuns = tab === "grid" ? "all" : ["graph", "gantt"].includes(tab) ? (shownRun || "newest") : "none";
  const model = await DagModel.load(dagId, Number(ctx.query.get("runs")) || GRID_RUNS, tiRuns);
  ctx.onDispose(model.follow());
  const dag = model.dag;
  const runId = shownRun || (model.runs[0] && model.runs[0].run_id) || "";
  const message = h("div", {});
  const pause = h("input", {type: "checkbox", id: "pause-toggle", checked: !dag.is_paused,
    disabled: !ctx.can("user"), onchange: async () => {
      try {
        dag.is_paused = (await patch(path`/dags/${dag.dag_id}`, {is_paused: !pause.checked})).dag.is_paused;
        pausedLabel.textContent = dag.is_paused ? "paused" : "active";
      } catch (error) { pause.checked = !dag.is_paused; mount(message, errorBox(error)); }
    }});
  const pausedLabel = h("span", {id: "paused-label"}, dag.is_paused ? "paused" : "active");
  const header = h("div", {class: "dag-header"},
    h("h1", {id: "dag-title"}, dag.dag_id),
    h("label", {class: "pause"}, pause, " ", pausedLabel),
    dag.description ? h("span", {class: "muted"}, dag.description) : null,
    h("span", {class: "muted"}, `schedule: ${dag.schedule}`),
    dag.next_dagrun ? h("span", {class: "muted"}, `next run: ${fmtDate(dag.next_dagrun)}`) : null);
  const tabs = h("nav", {class: "tabs"}, TABS.filter((t) => t !== "trigger" || ctx.can("user")).map((t) =>
    h("a", {href: `#/dags/${encodeURIComponent(dagId)}/${t}` + (runId && ["graph", "gantt"].includes(t) ? `?run=${encodeURIComponent(runId)}` : ""),
      class: t === tab ? "active" : null, id: `tab-${t}`}, t[0].toUpperCase() + t.slice(1))));
  let content;
  try {
    if (tab === "grid") {
      content = h("div", {}, gridView(ctx, model), model.hasMoreRuns ? h("a", {class: "button small",
        href: `#/dags/${encodeURIComponent(dagId)}/grid?runs=${MORE_RUNS[model.runLimit] || model.runLimit * 2}`}, "Show more runs") : null);
    } else if (tab === "graph") content = h("div", {}, runPicker(model, runId, "graph"), graphView(ctx, model, runId, !ctx.query.get("run")));
    else if (tab === "gantt") content = h("div", {}, runPicker(model, runId, "gantt"), ganttView(ctx, model, runId, !ctx.query.get("run")));
    else if (tab === "runs") content = runsTab(ctx, model);
    else if (tab === "source") content = await sourceTab(model);
    else if (tab === "details") content = detailsTab(model);
    else content = triggerView(ctx, model);
  } catch (error) {
    content = errorBox(error);
  }
  return h("div", {class: "view dag-view", dataset: {dagId}}, header, message, tabs, content);
}
