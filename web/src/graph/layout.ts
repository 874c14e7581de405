// A layered drawing of a graph definition's plan, top to bottom: a node's layer is one more
// than its deepest source's, and each layer is ordered by where its sources sit (one
// barycentre pass), which untangles the usual branch-and-join shapes without a library.
import type { PlanStep } from "../plan";

export const NODE_W = 150;
export const NODE_H = 52;
const GAP_X = 20;
const GAP_Y = 44;
const PAD = 8;

export interface LaidNode {
  step: PlanStep;
  x: number;
  y: number;
  layer: number;
}

export interface LaidEdge {
  source: string;
  target: string;
  branch: string | null;
  /** An SVG path from the bottom of the source to the top of the target. */
  path: string;
  /** Where the branch label goes: near the source, where the edges of a choice part. */
  label: { x: number; y: number };
}

export interface GraphLayout {
  width: number;
  height: number;
  nodes: LaidNode[];
  edges: LaidEdge[];
}

/** The layers of the steps: sources they do not name (the start, unknown ids) count as none. */
function layers(steps: PlanStep[]): Map<string, number> {
  const ids = new Set(steps.map((s) => s.id));
  const layer = new Map<string, number>();
  // The plan lists a node after its sources, so one pass settles it; the extra passes only
  // matter for a plan listed otherwise, and stop at the step count so a cycle cannot hang.
  for (let pass = 0; pass < steps.length; pass++) {
    let changed = false;
    for (const step of steps) {
      const sources = step.incoming.map((e) => e.source).filter((s) => ids.has(s) && s !== step.id);
      const depth = Math.min(steps.length - 1, Math.max(-1, ...sources.map((s) => layer.get(s) ?? -1)) + 1);
      if (layer.get(step.id) !== depth) {
        layer.set(step.id, depth);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return layer;
}

export function layout(steps: PlanStep[]): GraphLayout {
  const layerOf = layers(steps);
  const rows: PlanStep[][] = [];
  for (const step of steps) (rows[layerOf.get(step.id) ?? 0] ??= []).push(step);
  const dense = rows.filter((row) => row !== undefined);

  const slot = new Map<string, number>();
  for (const row of dense) {
    // Order by the mean slot of the sources; steps without placed sources keep plan order.
    const keyed = row.map((step, i) => {
      const placed = step.incoming.map((e) => slot.get(e.source)).filter((n): n is number => n !== undefined);
      const mean = placed.length ? placed.reduce((a, b) => a + b, 0) / placed.length : i;
      return { step, mean, i };
    });
    keyed.sort((a, b) => a.mean - b.mean || a.i - b.i);
    row.splice(0, row.length, ...keyed.map((k) => k.step));
    // Slots are centred, so a lone node under two sources sits between them.
    row.forEach((step, i) => slot.set(step.id, i - (row.length - 1) / 2));
  }

  const widest = Math.max(1, ...dense.map((row) => row.length));
  const width = widest * NODE_W + (widest - 1) * GAP_X + 2 * PAD;
  const height = dense.length * NODE_H + Math.max(0, dense.length - 1) * GAP_Y + 2 * PAD;
  const nodes: LaidNode[] = [];
  const at = new Map<string, LaidNode>();
  dense.forEach((row, layer) => {
    const rowWidth = row.length * NODE_W + (row.length - 1) * GAP_X;
    const left = (width - rowWidth) / 2;
    row.forEach((step, i) => {
      const node = { step, layer, x: left + i * (NODE_W + GAP_X), y: PAD + layer * (NODE_H + GAP_Y) };
      nodes.push(node);
      at.set(step.id, node);
    });
  });

  const edges: LaidEdge[] = [];
  for (const node of nodes) {
    for (const edge of node.step.incoming) {
      const from = at.get(edge.source);
      if (!from) continue;
      const x1 = from.x + NODE_W / 2;
      const y1 = from.y + NODE_H;
      const x2 = node.x + NODE_W / 2;
      const y2 = node.y;
      const bend = Math.max(GAP_Y / 2, (y2 - y1) / 2);
      edges.push({
        source: edge.source,
        target: node.step.id,
        branch: edge.branch,
        path: `M${x1},${y1} C${x1},${y1 + bend} ${x2},${y2 - bend} ${x2},${y2}`,
        label: { x: x1 + (x2 - x1) * 0.3, y: y1 + 14 },
      });
    }
  }
  return { width, height, nodes, edges };
}
