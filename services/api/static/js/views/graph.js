// The graph of a DAG, laid out in layers (layout.js), coloured by the states of one run, live.
// Task groups (ids "group.task") are collapsible: a collapsed group is one node, its edges
// those of its members.

import {h, s, mount} from "../dom.js";
import {layeredLayout} from "../layout.js";
import {groupsOf} from "../model.js";

const NODE_W = 180;
const NODE_H = 34;
const GAP_X = 70;
const GAP_Y = 16;

function unitOf(taskId, collapsed) {
  for (const group of groupsOf(taskId)) if (collapsed.has(group)) return group;
  return taskId;
}

export function graphView(ctx, model, shownRun, followNewest) {
  let runId = shownRun;
  // Groups start collapsed when the DAG is large, so the first view stays readable.
  const collapsed = new Set(model.tasks.length > 200 ? model.groups.filter((g) => !g.includes(".")) : []);
  const wrap = h("div", {class: "graph-scroll", id: "graph"});
  const groupBar = h("div", {class: "group-bar"});

  const byId = new Map(model.tasks.map((t) => [t.task_id, t]));

  function labelFor(id, cell) {
    const label = collapsed.has(id)
      ? `▸ ${id} (${model.taskIds.filter((t) => t.startsWith(id + ".")).length})`
      : id + (byId.get(id)?.is_mapped ? ` [${cell.count || ""}]` : "");
    return label.length > 26 ? label.slice(0, 25) + "…" : label;
  }

  function render() {
    const units = [];
    const seen = new Set();
    for (const task of model.tasks) {
      const unit = unitOf(task.task_id, collapsed);
      if (!seen.has(unit)) { seen.add(unit); units.push(unit); }
    }
    const edges = [];
    const edgeSeen = new Set();
    for (const task of model.tasks) {
      const to = unitOf(task.task_id, collapsed);
      for (const up of task.upstream_task_ids || []) {
        const from = unitOf(up, collapsed);
        const key = `${from}\u0000${to}`;
        if (from !== to && !edgeSeen.has(key)) { edgeSeen.add(key); edges.push([from, to]); }
      }
    }
    const pos = layeredLayout(units, edges);
    let width = 0;
    let height = 0;
    const xy = new Map();
    for (const [id, p] of pos) {
      const x = 10 + p.layer * (NODE_W + GAP_X);
      const y = 10 + p.order * (NODE_H + GAP_Y);
      xy.set(id, {x, y});
      width = Math.max(width, x + NODE_W + 10);
      height = Math.max(height, y + NODE_H + 10);
    }
    const isGroup = (id) => collapsed.has(id);
    const paths = edges.map(([a, b]) => {
      const p = xy.get(a);
      const q = xy.get(b);
      const x1 = p.x + NODE_W;
      const y1 = p.y + NODE_H / 2;
      const x2 = q.x;
      const y2 = q.y + NODE_H / 2;
      const mid = (x1 + x2) / 2;
      return s("path", {class: "edge", d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2 - 6},${y2}`,
        "marker-end": "url(#arrow)", dataset: {from: a, to: b}});
    });
    const nodes = units.map((id) => {
      const {x, y} = xy.get(id);
      const cell = model.cell(runId, id, isGroup(id));
      const label = labelFor(id, cell);
      const node = s("g", {class: ["node", isGroup(id) ? "group" : null, `st-${cell.state}`],
        transform: `translate(${x},${y})`, dataset: {task: id, state: cell.state},
        tabindex: "0", role: "button"},
      s("title", {}, `${id}: ${cell.state}`),
      s("rect", {width: NODE_W, height: NODE_H, rx: 5}),
      s("text", {x: 8, y: 21}, label));
      node.addEventListener("click", () => {
        if (isGroup(id)) { collapsed.delete(id); render(); return; }
        if (runId) {
          window.location.hash = `#/dags/${encodeURIComponent(model.dag.dag_id)}/runs/` +
            `${encodeURIComponent(runId)}/tasks/${encodeURIComponent(id)}`;
        }
      });
      return node;
    });
    mount(wrap, s("svg", {width, height, class: "graph", viewBox: `0 0 ${width} ${height}`},
      s("defs", {}, s("marker", {id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5,
        markerWidth: 8, markerHeight: 8, orient: "auto-start-reverse"},
      s("path", {d: "M 0 0 L 10 5 L 0 10 z", class: "arrow"}))),
      s("g", {class: "edges"}, paths), s("g", {class: "nodes"}, nodes)));
    mount(groupBar, model.groups.length ? [h("span", {class: "muted"}, "Groups: "),
      model.groups.map((g) => h("button", {class: ["small", collapsed.has(g) ? "collapsed" : null],
        dataset: {group: g}, onclick: () => {
          if (collapsed.has(g)) collapsed.delete(g); else collapsed.add(g);
          render();
        }}, `${collapsed.has(g) ? "▸" : "▾"} ${g}`))] : []);
  }

  // Live: recolour nodes in place (no new layout) when a state of this run changes.
  ctx.onDispose(model.onChange((change) => {
    if (change.newRun && followNewest) { runId = change.run_id; render(); return; }
    const newest = model.runs[0] && model.runs[0].run_id;
    if (change.reload && followNewest && newest && newest !== runId) { runId = newest; render(); return; }
    if (!change.reload && change.run_id !== runId) return;
    for (const node of wrap.querySelectorAll("g.node")) {
      const id = node.dataset.task;
      const cell = model.cell(runId, id, collapsed.has(id));
      if (node.dataset.state === cell.state && !byId.get(id)?.is_mapped) continue;
      node.dataset.state = cell.state;
      node.setAttribute("class", ["node", collapsed.has(id) ? "group" : "", `st-${cell.state}`].join(" "));
      node.querySelector("title").textContent = `${id}: ${cell.state}`;
      node.querySelector("text").textContent = labelFor(id, cell);
    }
  }));
  render();
  return h("div", {class: "graph-view"}, groupBar, wrap);
}
