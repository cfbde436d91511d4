// What the DAG views share: a DAG's runs and their task instances, kept current from the
// event stream, and the task-group tree (task ids "group.task", as Airflow writes them).

import {get, getAll, path, stream} from "./api.js";
import {stateName} from "./dom.js";

// When one cell stands for several instances (a mapped task, a collapsed group), it shows the
// first of these states that any of them is in.
const PRIORITY = ["failed", "upstream_failed", "up_for_retry", "running", "queued",
  "up_for_reschedule", "scheduled", "none", "removed", "skipped", "success"];

export function summaryState(states) {
  let best = null;
  for (const state of states) {
    const rank = PRIORITY.indexOf(state);
    if (best === null || (rank >= 0 && rank < PRIORITY.indexOf(best))) best = state;
  }
  return best || "none";
}

/** The groups of a task id: "a.b.c" -> ["a", "a.b"]. */
export function groupsOf(taskId) {
  const parts = taskId.split(".");
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join("."));
}

export class DagModel {
  constructor(dag, runLimit) {
    this.dag = dag;
    this.tasks = dag.tasks || [];
    this.taskIds = this.tasks.map((t) => t.task_id);
    this.runLimit = runLimit;
    this.runs = []; // newest first
    this.tis = new Map(); // run_id -> Map(task_id -> Map(map_index -> ti))
    this.reading = new Map(); // run_id -> Set of reads in flight, each counting changes meanwhile
    this.listeners = new Set();
    this.groups = [...new Set(this.taskIds.flatMap(groupsOf))];
  }

  /**
   * `tiRuns` says whose task instances to read: "all" runs (the grid), "newest", one run id
   * (graph, Gantt), or "none" (pages that show runs only). At a thousand tasks a run's task
   * instances are the bulk of what a view reads, so each view reads only what it shows.
   */
  static async load(dagId, runLimit, tiRuns = "all") {
    const dag = (await get(path`/dags/${dagId}`)).dag;
    const model = new DagModel(dag, runLimit);
    model.tiRuns = tiRuns;
    await model.loadRuns();
    return model;
  }

  wantsTis(runId) {
    if (this.tiRuns === "all") return true;
    if (this.tiRuns === "newest") return this.runs.length > 0 && this.runs[0].run_id === runId;
    return this.tiRuns === runId;
  }

  async loadRuns() {
    const page = await get(path`/dags/${this.dag.dag_id}/dagRuns`, {page_size: this.runLimit});
    this.runs = page.dag_runs || [];
    this.hasMoreRuns = Boolean(page.next_page_token);
    await Promise.all(this.runs.filter((run) => this.wantsTis(run.run_id))
      .map((run) => this.loadRun(run.run_id)));
  }

  /** Read a run's task instances. A change that arrives while they are read may be newer
   * than what the read returns (its answer must not overwrite it): then read them again. */
  async loadRun(runId) {
    for (;;) {
      const read = {changes: 0};
      if (!this.reading.has(runId)) this.reading.set(runId, new Set());
      this.reading.get(runId).add(read);
      let items;
      try {
        items = await getAll(path`/dags/${this.dag.dag_id}/dagRuns/${runId}/taskInstances`,
          "task_instances");
      } finally {
        this.reading.get(runId).delete(read);
        if (!this.reading.get(runId).size) this.reading.delete(runId);
      }
      const byTask = new Map();
      for (const ti of items) {
        const key = ti.key;
        if (!byTask.has(key.task_id)) byTask.set(key.task_id, new Map());
        byTask.get(key.task_id).set(key.map_index, ti);
      }
      this.tis.set(runId, byTask);
      if (!read.changes) return;
    }
  }

  /** States of a task's instances in a run: [] when it has none yet. */
  states(runId, taskId) {
    const byIndex = this.tis.get(runId)?.get(taskId);
    if (!byIndex) return [];
    const mapped = [...byIndex.entries()].filter(([i]) => i >= 0);
    const instances = mapped.length ? mapped.map(([, ti]) => ti) : [...byIndex.values()];
    return instances.map((ti) => stateName(ti.state));
  }

  /** {state, count, counts} of a task (all map indexes) or a group (all its tasks). */
  cell(runId, id, isGroup) {
    const ids = isGroup ? this.taskIds.filter((t) => t.startsWith(id + ".")) : [id];
    const states = ids.flatMap((t) => this.states(runId, t));
    const counts = {};
    for (const st of states) counts[st] = (counts[st] || 0) + 1;
    return {state: states.length ? summaryState(states) : "none", count: states.length, counts};
  }

  onChange(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(change) {
    for (const listener of this.listeners) listener(change);
  }

  /** Follow the DAG's events: task states in place; a new run is fetched. Returns close().
   * Each time the stream (re)connects, the unfinished runs are read again: a change made
   * between the first load and the subscription, or while disconnected, is not lost. */
  follow() {
    let timer = null;
    const close = stream("/events", {dag_id: this.dag.dag_id}, {
      open: () => {
        document.body.dataset.live = this.dag.dag_id;
        this.refreshActive();
        // The stream opens a moment before the scheduler has registered its watch: read the
        // unfinished runs once more after that moment, so a change made in it is not lost.
        clearTimeout(timer);
        timer = setTimeout(() => this.refreshActive(), 1000);
      },
      state_change: (data) => {
        const change = data && data.change;
        if (change) this.apply(change);
      },
    });
    return () => { clearTimeout(timer); close(); };
  }

  async refreshActive() {
    try {
      const page = await get(path`/dags/${this.dag.dag_id}/dagRuns`, {page_size: this.runLimit});
      const fresh = page.dag_runs || [];
      const known = new Map(this.runs.map((r) => [r.run_id, r]));
      const stale = fresh.filter((r) => !known.has(r.run_id) || r.state !== known.get(r.run_id).state
        || ["DAG_RUN_STATE_QUEUED", "DAG_RUN_STATE_RUNNING"].includes(r.state));
      if (!stale.length && fresh.length === this.runs.length) return;
      for (const run of this.runs) if (!fresh.some((r) => r.run_id === run.run_id)) this.tis.delete(run.run_id);
      this.runs = fresh;
      await Promise.all(stale.filter((r) => this.wantsTis(r.run_id)).map((r) => this.loadRun(r.run_id)));
      this.emit({reload: true});
    } catch { /* the next event or reconnect tries again */ }
  }

  async apply(change) {
    let run = this.runs.find((r) => r.run_id === change.run_id);
    if (!run) {
      try {
        run = (await get(path`/dags/${this.dag.dag_id}/dagRuns/${change.run_id}`)).dag_run;
      } catch { return; }
      // Changes that arrive while the new run is fetched find it missing too; the read of its
      // task instances below starts after they arrived, so it holds them already.
      if (this.runs.some((r) => r.run_id === run.run_id)) return;
      this.runs.unshift(run);
      if (this.runs.length > this.runLimit) this.tis.delete(this.runs.pop().run_id);
      if (this.wantsTis(run.run_id)) await this.loadRun(run.run_id);
      this.emit({run_id: run.run_id, newRun: true});
      return;
    }
    if (change.dag_run_state) run.state = change.dag_run_state;
    const key = change.task_instance_key;
    if (key && key.task_id) {
      const byTask = this.tis.get(run.run_id) || new Map();
      this.tis.set(run.run_id, byTask);
      if (!byTask.has(key.task_id)) byTask.set(key.task_id, new Map());
      const byIndex = byTask.get(key.task_id);
      const mapIndex = key.map_index ?? -1;
      const ti = byIndex.get(mapIndex) || {key: {...key}, state: "TASK_INSTANCE_STATE_NONE"};
      if (mapIndex >= 0) byIndex.delete(-1); // expanded: the placeholder is replaced
      ti.state = change.task_instance_state;
      ti.key.try_number = key.try_number;
      byIndex.set(mapIndex, ti);
      for (const read of this.reading.get(run.run_id) || []) read.changes += 1;
    }
    this.emit({run_id: run.run_id, task_id: key && key.task_id});
  }
}
