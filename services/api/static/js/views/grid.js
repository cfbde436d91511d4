// The grid: runs (columns, oldest left) × tasks (rows, groups collapsible). Only the rows in
// view are in the DOM, so a DAG of thousands of tasks renders as fast as one of forty; a mapped
// task or a collapsed group shows one cell with its instance count.

import {h, mount, stateName} from "../dom.js";
import {groupsOf} from "../model.js";

const ROW_H = 22;
const OVERSCAN = 10;

/** Rows in display order: groups before their members, collapsed ones hiding them. */
export function gridRows(model, collapsed) {
  const rows = [];
  const seenGroups = new Set();
  for (const task of model.tasks) {
    const groups = groupsOf(task.task_id);
    let hidden = false;
    for (const [depth, group] of groups.entries()) {
      if (hidden) break;
      if (!seenGroups.has(group)) {
        seenGroups.add(group);
        rows.push({id: group, label: group.split(".").pop(), depth, isGroup: true});
      }
      if (collapsed.has(group)) hidden = true;
    }
    if (!hidden) {
      rows.push({id: task.task_id, label: task.task_id.split(".").pop(), depth: groups.length,
        isGroup: false, isMapped: task.is_mapped});
    }
  }
  return rows;
}

export function gridView(ctx, model) {
  const collapsed = new Set(ctx.query.get("collapsed") ? ctx.query.get("collapsed").split(",") : []);
  let rows = gridRows(model, collapsed);
  const body = h("div", {class: "grid-body"});
  const spacer = h("div", {class: "grid-spacer"});
  const header = h("div", {class: "grid-header"});
  const scroller = h("div", {class: "grid-scroll", id: "grid"}, header, h("div", {class: "grid-rows"}, spacer, body));
  let frame = 0;

  function runsOldestFirst() { return [...model.runs].reverse(); }

  function renderHeader() {
    mount(header, h("div", {class: "grid-label"}, `${model.tasks.length} tasks, ${model.runs.length} runs`),
      runsOldestFirst().map((run) => h("a", {
        class: ["grid-run", `st-${stateName(run.state)}`],
        href: `#/dags/${encodeURIComponent(model.dag.dag_id)}/graph?run=${encodeURIComponent(run.run_id)}`,
        title: `${run.run_id}: ${stateName(run.state)}`,
        dataset: {run: run.run_id, state: stateName(run.state)}})));
  }

  function renderRow(row, index) {
    const label = h("div", {class: "grid-label", style: `padding-left:${0.4 + row.depth}rem`,
      title: row.id},
    row.isGroup ? h("button", {class: "link group-toggle", dataset: {group: row.id},
      "aria-expanded": String(!collapsed.has(row.id)), onclick: () => {
        if (collapsed.has(row.id)) collapsed.delete(row.id); else collapsed.add(row.id);
        rows = gridRows(model, collapsed);
        render();
      }}, collapsed.has(row.id) ? "▸ " : "▾ ", row.label) : row.label,
    row.isMapped ? h("span", {class: "muted"}, " [ ]") : null);
    const cells = runsOldestFirst().map((run) => {
      const cell = model.cell(run.run_id, row.id, row.isGroup);
      const multi = row.isGroup || row.isMapped;
      const text = multi && cell.count > 1 ? String(cell.count) : "";
      const title = `${row.id} · ${run.run_id}: ` + (multi
        ? Object.entries(cell.counts).map(([st, n]) => `${n} ${st}`).join(", ") || "none"
        : cell.state);
      return h(row.isGroup ? "span" : "a", {
        class: ["grid-cell", `st-${cell.state}`],
        href: row.isGroup ? null : `#/dags/${encodeURIComponent(model.dag.dag_id)}/runs/` +
          `${encodeURIComponent(run.run_id)}/tasks/${encodeURIComponent(row.id)}`,
        title, dataset: {task: row.id, run: run.run_id, state: cell.state}}, text);
    });
    return h("div", {class: ["grid-row", row.isGroup ? "group" : null],
      style: `top:${index * ROW_H}px`, dataset: {row: row.id}}, label, cells);
  }

  function render() {
    frame = 0;
    spacer.style.height = `${rows.length * ROW_H}px`;
    const top = Math.max(0, scroller.scrollTop - header.offsetHeight);
    const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
    const visible = Math.ceil((scroller.clientHeight || 600) / ROW_H) + 2 * OVERSCAN;
    const slice = rows.slice(first, first + visible);
    renderHeader();
    mount(body, slice.map((row, i) => renderRow(row, first + i)));
  }

  function schedule() { if (!frame) frame = requestAnimationFrame(render); }

  scroller.addEventListener("scroll", schedule);
  ctx.onDispose(model.onChange(schedule));
  render();
  requestAnimationFrame(render); // again once the scroller has its size
  return h("div", {class: "grid-view"}, scroller);
}
