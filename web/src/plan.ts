// The steps of a compiled plan (GET /definitions/{name}?version=N gives it), as a tree in plan
// order: blocks (parallel, for_each, loop, if, switch) hold the steps of their bodies.

export interface PlanStep {
  id: string;
  kind: string;
  module: string | null;
  /** The steps of a graph definition that this one comes after. */
  after: string[];
  /** The same edges with the branch of a conditional source they need (`true`, `false`, a case). */
  incoming: { source: string; branch: string | null }[];
  /** A block's bodies, labelled (a parallel branch's name, a switch case, then/otherwise). */
  bodies: { label: string; steps: PlanStep[] }[];
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stepsOf(body: unknown, graph: boolean): PlanStep[] {
  if (!isObject(body) || !Array.isArray(body.nodes)) return [];
  return body.nodes.filter(isObject).map((node) => stepOf(node, graph));
}

function stepOf(node: Json, graph: boolean): PlanStep {
  const bodies: PlanStep["bodies"] = [];
  const named = (label: string, body: unknown) => {
    const steps = stepsOf(body, graph);
    if (steps.length > 0) bodies.push({ label, steps });
  };
  for (const field of ["branches", "cases"] as const) {
    const group = node[field];
    if (isObject(group)) for (const [label, body] of Object.entries(group)) named(label, body);
  }
  named("", node.body);
  named("then", node.then);
  named("otherwise", node.otherwise);
  named("default", node.default);
  // A list of steps runs in order; only a graph's edges say something worth showing.
  const incoming =
    graph && Array.isArray(node.after)
      ? node.after
          .filter(isObject)
          .map((edge) => ({
            source: String(edge.source ?? ""),
            branch: typeof edge.branch === "string" ? edge.branch : null,
          }))
          .filter((edge) => !edge.source.startsWith("@"))
      : [];
  return {
    id: String(node.id ?? ""),
    kind: String(node.kind ?? "module"),
    module: typeof node.module === "string" ? node.module : null,
    after: incoming.map((edge) => edge.source),
    incoming,
    bodies,
  };
}

/** Whether the plan is a graph definition's (nodes and edges) rather than a list of steps. */
export function isGraphPlan(plan: unknown): boolean {
  return isObject(plan) && plan.form === "graph";
}

/** The plan's steps, or [] for something that is not a plan. */
export function planSteps(plan: unknown): PlanStep[] {
  return isObject(plan) ? stepsOf(plan.body, plan.form === "graph") : [];
}

/** Every step id of the tree, in plan order. */
export function stepIds(steps: PlanStep[]): string[] {
  return steps.flatMap((step) => [step.id, ...step.bodies.flatMap((body) => stepIds(body.steps))]);
}
