// Workers and queues (what Flower shows for Celery): each worker with its queues, slots in
// use, running attempts, last heartbeat and whether it is online; each queue with its depth
// and consumers. Refreshed every two seconds while shown.

import {getAll} from "../api.js";
import {badge, errorBox, fmtDate, h, mount, table} from "../dom.js";

const REFRESH_MS = 2000;

function attempt(key) {
  return h("a", {href: `#/dags/${encodeURIComponent(key.dag_id)}/runs/${encodeURIComponent(key.run_id)}` +
    `/tasks/${encodeURIComponent(key.task_id)}` + (key.map_index >= 0 ? `/${key.map_index}` : "")},
  `${key.dag_id} / ${key.run_id} / ${key.task_id}` + (key.map_index >= 0 ? `[${key.map_index}]` : "") +
    ` #${key.try_number}`);
}

export async function workersView(ctx) {
  const body = h("div", {});
  async function render() {
    try {
      const [workers, queues] = await Promise.all([getAll("/workers", "workers"), getAll("/queues", "queues")]);
      mount(body,
        h("h2", {}, "Workers"),
        table(["Worker", "Host", "State", "Queues", "Slots", "Running", "Last heartbeat"],
          workers.map((w) => [w.worker_id, w.hostname, badge(w.state),
            (w.queues || []).join(", "), `${w.slots_used} / ${w.concurrency}`,
            h("div", {class: "attempts"}, (w.running || []).map((k) => h("div", {}, attempt(k)))),
            fmtDate(w.last_heartbeat)]), {class: "list", id: "workers-table"}),
        h("h2", {}, "Queues"),
        table(["Queue", "Depth", "In flight", "Workers", "Slots"], queues.map((q) => [
          q.name, String(q.depth), String(q.in_flight), (q.worker_ids || []).join(", "),
          String(q.slots)]), {class: "list", id: "queues-table"}));
    } catch (error) {
      mount(body, errorBox(error));
    }
  }
  await render();
  const timer = setInterval(render, REFRESH_MS);
  ctx.onDispose(() => clearInterval(timer));
  return h("div", {class: "view"}, h("h1", {}, "Workers and queues"), body);
}
