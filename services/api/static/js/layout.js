// A layered ("Sugiyama") layout of a DAG, small enough to keep here: each node's layer is its
// longest path from a source; nodes are ordered within their layer by the barycenter of their
// neighbours (a few sweeps down and up) and then given one slot each, so no two nodes overlap.

/**
 * @param {string[]} nodes ids, in a topological order if known (ties keep it)
 * @param {[string, string][]} edges [from, to]
 * @returns {Map<string, {layer: number, order: number}>}
 */
export function layeredLayout(nodes, edges, sweeps = 4) {
  const ups = new Map(nodes.map((n) => [n, []]));
  const downs = new Map(nodes.map((n) => [n, []]));
  for (const [a, b] of edges) {
    if (!ups.has(a) || !ups.has(b) || a === b) continue;
    ups.get(b).push(a);
    downs.get(a).push(b);
  }
  // Longest path layering, in a topological order (Kahn), robust to any input order.
  const indegree = new Map(nodes.map((n) => [n, ups.get(n).length]));
  const queue = nodes.filter((n) => indegree.get(n) === 0);
  const layer = new Map(nodes.map((n) => [n, 0]));
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i];
    for (const next of downs.get(node)) {
      layer.set(next, Math.max(layer.get(next), layer.get(node) + 1));
      indegree.set(next, indegree.get(next) - 1);
      if (indegree.get(next) === 0) queue.push(next);
    }
  }
  const layers = [];
  for (const node of nodes) {
    const l = layer.get(node);
    (layers[l] ||= []).push(node);
  }
  const order = new Map();
  const place = () => layers.forEach((ids) => ids.forEach((id, i) => order.set(id, i)));
  place();
  const barycenter = (ids, neighbours) => {
    const score = new Map(ids.map((id) => {
      const ns = neighbours.get(id);
      return [id, ns.length ? ns.reduce((sum, n) => sum + order.get(n), 0) / ns.length
        : order.get(id)];
    }));
    ids.sort((a, b) => score.get(a) - score.get(b));
  };
  for (let sweep = 0; sweep < sweeps; sweep++) {
    for (let l = 1; l < layers.length; l++) { barycenter(layers[l], ups); place(); }
    for (let l = layers.length - 2; l >= 0; l--) { barycenter(layers[l], downs); place(); }
  }
  return new Map(nodes.map((n) => [n, {layer: layer.get(n), order: order.get(n)}]));
}
