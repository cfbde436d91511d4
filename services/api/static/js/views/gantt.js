// The Gantt chart of one run: a bar per task instance from its start to its end (now, while
// it runs), refreshed when one of the run's task instances changes.

import {getAll, path} from "../api.js";
import {fmtDuration, h, mount, stateName} from "../dom.js";

export function ganttView(ctx, model, shownRun, followNewest) {
  let runId = shownRun;
  const chart = h("div", {class: "gantt", id: "gantt"});
  let timer = null;

  async function render() {
    timer = null;
    const tis = (await getAll(path`/dags/${model.dag.dag_id}/dagRuns/${runId}/taskInstances`,
      "task_instances")).filter((ti) => ti.start_date);
    if (!tis.length) {
      mount(chart, h("p", {class: "muted"}, "No task of this run has started yet."));
      return;
    }
    const now = Date.now();
    const start = (ti) => new Date(ti.start_date).getTime();
    const end = (ti) => (ti.end_date ? new Date(ti.end_date).getTime() : now);
    tis.sort((a, b) => start(a) - start(b));
    const t0 = Math.min(...tis.map(start));
    const span = Math.max(1, Math.max(...tis.map(end)) - t0);
    mount(chart, h("div", {class: "gantt-axis"}, h("span", {}, "0 s"),
      h("span", {}, fmtDuration(span / 1000))),
    tis.map((ti) => {
      const id = ti.key.map_index >= 0 ? `${ti.key.task_id}[${ti.key.map_index}]` : ti.key.task_id;
      const left = ((start(ti) - t0) / span) * 100;
      const width = Math.max(0.4, ((end(ti) - start(ti)) / span) * 100);
      return h("div", {class: "gantt-row", dataset: {task: ti.key.task_id}},
        h("div", {class: "gantt-label", title: id}, id),
        h("div", {class: "gantt-track"}, h("a", {
          class: ["gantt-bar", `st-${stateName(ti.state)}`],
          style: `left:${left.toFixed(3)}%;width:${width.toFixed(3)}%`,
          href: `#/dags/${encodeURIComponent(model.dag.dag_id)}/runs/${encodeURIComponent(runId)}` +
            `/tasks/${encodeURIComponent(ti.key.task_id)}` +
            (ti.key.map_index >= 0 ? `/${ti.key.map_index}` : ""),
          title: `${id}: ${stateName(ti.state)}, ${fmtDuration((end(ti) - start(ti)) / 1000)}`})));
    }));
  }

  ctx.onDispose(model.onChange((change) => {
    if (change.newRun && followNewest) runId = change.run_id;
    if ((change.reload || change.run_id === runId) && runId && !timer) timer = setTimeout(render, 300);
  }));
  ctx.onDispose(() => timer && clearTimeout(timer));
  if (runId) render(); else mount(chart, h("p", {class: "muted"}, "No run yet."));
  return chart;
}
