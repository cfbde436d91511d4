// One task instance: details, tries, rendered template fields, XCom, and its log (followed
// live while the try runs; downloadable), with clear and mark actions for users.

import {get, getAll, patch, path, post, stream} from "../api.js";
import {badge, errorBox, fmtDate, fmtDuration, h, mount, stateName, table} from "../dom.js";

const FINISHED = new Set(["success", "failed", "skipped", "upstream_failed", "removed"]);

function escapeRegex(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function logPane(ctx, base, mapIndex, tryNumber, running) {
  const pre = h("pre", {class: "log", id: "log"});
  const status = h("span", {class: "muted", id: "log-status"}, "loading…");
  let text = "";
  let close = null;
  const download = h("a", {class: "button small", id: "log-download", href: "#",
    onclick: (event) => {
      event.preventDefault();
      const url = URL.createObjectURL(new Blob([text], {type: "text/plain"}));
      const a = h("a", {href: url, download: `${base.task_id}.${mapIndex}.${tryNumber}.log`});
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    }}, "Download");
  const add = (chunk) => {
    if (!chunk) return;
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    text += chunk;
    pre.append(document.createTextNode(chunk));
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  };
  (async () => {
    const logUrl = path`/dags/${base.dag_id}/dagRuns/${base.run_id}/taskInstances/${base.task_id}/logs/${tryNumber}`;
    let offset = 0;
    try {
      const first = await get(logUrl, {map_index: mapIndex});
      add(first.content);
      offset = first.next_offset;
      if (first.complete || !running) { status.textContent = "complete"; return; }
    } catch (error) {
      status.textContent = error.message;
      if (!running) return;
    }
    status.textContent = "following…";
    close = stream(logUrl + "/follow", {map_index: mapIndex, offset}, {
      log: (data) => { if (data) { add(data.content); offset = data.next_offset; } },
      end: () => { status.textContent = "complete"; if (close) close(); },
      error: (data) => { if (data && data.error) status.textContent = data.error.message; },
    });
    ctx.onDispose(() => close && close());
  })();
  return h("div", {class: "log-pane"}, h("div", {class: "toolbar"}, status, download), pre);
}

function actions(ctx, base, ti, message, reload) {
  if (!ctx.can("user")) return null;
  const downstream = h("input", {type: "checkbox", id: "clear-downstream"});
  const onlyFailed = h("input", {type: "checkbox", id: "clear-only-failed"});
  const run = async (fn) => {
    try { await fn(); mount(message, h("div", {class: "ok"}, "Done.")); await reload(); }
    catch (error) { mount(message, errorBox(error)); }
  };
  const ti_url = path`/dags/${base.dag_id}/dagRuns/${base.run_id}/taskInstances/${base.task_id}`;
  return h("div", {class: "actions", id: "ti-actions"},
    h("button", {id: "clear", onclick: () => run(() => post(
      path`/dags/${base.dag_id}/dagRuns/${base.run_id}/clearTaskInstances`,
      {task_regex: `^${escapeRegex(base.task_id)}$`, include_downstream: downstream.checked,
        only_failed: onlyFailed.checked}))}, "Clear"),
    h("label", {}, downstream, " downstream"), h("label", {}, onlyFailed, " only failed"),
    h("button", {id: "mark-success", onclick: () => run(() => patch(ti_url, {new_state: "success"}))},
      "Mark success"),
    h("button", {id: "mark-failed", onclick: () => run(() => patch(ti_url, {new_state: "failed"}))},
      "Mark failed"));
}

async function mappedList(base) {
  const all = await getAll(path`/dags/${base.dag_id}/dagRuns/${base.run_id}/taskInstances`, "task_instances");
  const mine = all.filter((ti) => ti.key.task_id === base.task_id && ti.key.map_index >= 0);
  if (!mine.length) return null;
  return h("section", {}, h("h2", {}, `Mapped instances (${mine.length})`),
    table(["Map index", "State", "Try", "Duration"], mine.map((ti) => [
      h("a", {href: `#/dags/${encodeURIComponent(base.dag_id)}/runs/${encodeURIComponent(base.run_id)}` +
        `/tasks/${encodeURIComponent(base.task_id)}/${ti.key.map_index}`}, String(ti.key.map_index)),
      badge(ti.state), String(ti.key.try_number), fmtDuration(ti.duration)]), {class: "list"}));
}

export async function taskInstanceView(ctx, dagId, runId, taskId, mapIndexText) {
  const base = {dag_id: dagId, run_id: runId, task_id: taskId};
  const explicitIndex = mapIndexText !== undefined;
  let mapIndex = explicitIndex ? Number(mapIndexText) : -1;
  const root = h("div", {class: "view ti-view"});
  const message = h("div", {});
  const tiUrl = path`/dags/${dagId}/dagRuns/${runId}/taskInstances/${taskId}`;

  let shownTry = Number(ctx.query.get("try")) || 0;
  let lastState = "";
  let lastTry = 0;

  let loadDisposers = [];
  const loadCtx = {onDispose: (fn) => loadDisposers.push(fn)};
  ctx.onDispose(() => loadDisposers.forEach((fn) => fn()));

  async function load() {
    loadDisposers.forEach((fn) => fn());
    loadDisposers = [];
    let ti;
    let mapped = null;
    try {
      ti = (await get(tiUrl, {map_index: mapIndex})).task_instance;
    } catch (error) {
      if (explicitIndex || error.status !== 404) throw error;
      mapped = await mappedList(base);
      if (!mapped) throw error;
    }
    if (!ti) {
      mount(root, h("h1", {}, taskId), breadcrumbs(), mapped);
      return;
    }
    const state = stateName(ti.state);
    const tryNumber = ti.key.try_number;
    lastState = state;
    lastTry = tryNumber;
    const showTry = shownTry || tryNumber;
    const [tries, rendered, xcoms] = await Promise.all([
      getAll(tiUrl + "/tries", "tries", {map_index: mapIndex}).catch(() => []),
      get(tiUrl + "/renderedFields", {map_index: mapIndex}).catch(() => ({found: false})),
      get(tiUrl + "/xcomEntries").then((r) => r.xcoms || []).catch(() => []),
    ]);
    mapped = mapIndex < 0 ? await mappedList(base) : null;
    const tryButtons = h("div", {class: "tries-picker"}, "Log of try ",
      Array.from({length: Math.max(tryNumber, 1)}, (_, i) => i + 1).map((n) =>
        h("button", {class: ["small", n === showTry ? "active" : null], dataset: {try: String(n)},
          onclick: () => { shownTry = n; load(); }}, String(n))));
    mount(root,
      h("h1", {id: "ti-title"}, taskId, mapIndex >= 0 ? `[${mapIndex}]` : "", " ", badge(ti.state)),
      breadcrumbs(), message,
      actions(ctx, base, ti, message, load),
      table(["Field", "Value"], [
        ["State", badge(ti.state)], ["Try", `${tryNumber} of ${ti.max_tries}`],
        ["Operator", ti.operator], ["Queue", ti.queue], ["Pool", ti.pool],
        ["Worker", ti.hostname], ["Start", fmtDate(ti.start_date)], ["End", fmtDate(ti.end_date)],
        ["Duration", fmtDuration(ti.duration)]], {class: "details", id: "ti-details"}),
      mapped,
      h("h2", {}, "Tries"),
      table(["Try", "State", "Start", "End", "Duration", "Worker", "Error"], tries.map((t) => [
        String(t.key.try_number), badge(t.state), fmtDate(t.start_date), fmtDate(t.end_date),
        fmtDuration(t.duration), t.worker_id, h("pre", {class: "inline"}, t.error)]),
      {class: "list", id: "ti-tries"}),
      h("h2", {}, "Rendered template fields"),
      rendered.found ? table(["Field", "Value"], Object.entries(rendered.rendered_fields || {}).map(
        ([k, v]) => [k, h("pre", {class: "inline"}, typeof v === "string" ? v : JSON.stringify(v, null, 2))]),
      {class: "details", id: "ti-rendered"}) : h("p", {class: "muted"}, "Not rendered yet."),
      h("h2", {}, "XCom"),
      table(["Key", "Map index", "Value"], xcoms.filter((x) => mapIndex < 0 || x.map_index === mapIndex)
        .map((x) => [x.key, String(x.map_index), h("pre", {class: "inline"}, JSON.stringify(x.value, null, 2))]),
      {class: "list", id: "ti-xcom"}),
      h("h2", {}, "Log"), tryButtons,
      logPane(loadCtx, base, mapIndex, showTry, !FINISHED.has(state) && showTry === tryNumber));
  }

  function breadcrumbs() {
    return h("p", {class: "crumbs"},
      h("a", {href: "#/dags"}, "DAGs"), " / ",
      h("a", {href: `#/dags/${encodeURIComponent(dagId)}/grid`}, dagId), " / ",
      h("a", {href: `#/dags/${encodeURIComponent(dagId)}/graph?run=${encodeURIComponent(runId)}`}, runId));
  }

  // Live: a change of this task instance (a new try, a new state) reloads the view.
  let timer = null;
  ctx.onDispose(stream("/events", {dag_id: dagId, run_id: runId}, {state_change: (data) => {
    const key = data && data.change && data.change.task_instance_key;
    if (!key || key.task_id !== taskId) return;
    if (mapIndex >= 0 && key.map_index !== mapIndex) return;
    const state = stateName(data.change.task_instance_state);
    if (state === lastState && key.try_number === lastTry) return;
    if (key.try_number !== lastTry) shownTry = 0; // follow the new try
    if (!timer) timer = setTimeout(() => { timer = null; load().catch((e) => mount(message, errorBox(e))); }, 100);
  }}));
  ctx.onDispose(() => timer && clearTimeout(timer));
  await load();
  return root;
}
