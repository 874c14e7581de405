// A graph definition's plan drawn as nodes and edges, each node coloured by its status (and
// saying it in words). Every node is a button: choosing one shows its details underneath.
// Loaded with the run page only for graph definitions.
import { type KeyboardEvent, useMemo, useState } from "react";
import { Status, statusLabel } from "../components";
import type { PlanStep } from "../plan";
import type { StepState } from "../timeline";
import { layout, NODE_H, NODE_W } from "./layout";

interface Props {
  steps: PlanStep[];
  states: Record<string, StepState>;
  live: Record<string, string[]>;
}

/** `text` cut to fit a node, with an ellipsis. */
function fit(text: string, chars: number): string {
  return text.length > chars ? `${text.slice(0, chars - 1)}…` : text;
}

export default function PlanGraph({ steps, states, live }: Props) {
  const drawn = useMemo(() => layout(steps), [steps]);
  const [chosen, setChosen] = useState<string | null>(null);
  const step = steps.find((s) => s.id === chosen) ?? null;
  const choose = (id: string) => setChosen((now) => (now === id ? null : id));
  const key = (id: string) => (event: KeyboardEvent) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      choose(id);
    }
  };

  return (
    <figure className="graph">
      <div className="graph-scroll">
        <svg
          width={drawn.width}
          height={drawn.height}
          viewBox={`0 0 ${drawn.width} ${drawn.height}`}
          role="group"
          aria-label={`The plan as a graph of ${steps.length} steps`}
        >
          <defs>
            <marker id="graph-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
              <path d="M0,0 L10,5 L0,10 z" className="graph-arrowhead" />
            </marker>
          </defs>
          <g aria-hidden="true">
            {drawn.edges.map((edge) => (
              <g key={`${edge.source}>${edge.target}:${edge.branch ?? ""}`}>
                <path d={edge.path} className="graph-edge" markerEnd="url(#graph-arrow)" />
                {edge.branch && (
                  <text x={edge.label.x} y={edge.label.y} className="graph-branch" textAnchor="middle">
                    {edge.branch}
                  </text>
                )}
              </g>
            ))}
          </g>
          {drawn.nodes.map(({ step: node, x, y }) => {
            const state = states[node.id] ?? "pending";
            const after = node.incoming.map((e) => (e.branch ? `${e.source} (${e.branch})` : e.source));
            return (
              <g
                key={node.id}
                className={`graph-node graph-${state}`}
                transform={`translate(${x},${y})`}
                role="button"
                tabIndex={0}
                aria-pressed={chosen === node.id}
                aria-label={`${node.id}, ${node.module ?? node.kind}, ${statusLabel(state)}${after.length ? `, after ${after.join(", ")}` : ""}`}
                onClick={() => choose(node.id)}
                onKeyDown={key(node.id)}
              >
                <title>{node.id}</title>
                <rect width={NODE_W} height={NODE_H} rx="6" />
                <text x="10" y="20" className="graph-id">
                  {fit(node.id, 18)}
                </text>
                <text x="10" y="40" className="graph-sub">
                  {fit(node.module ?? node.kind, 13)} · <tspan className="graph-state">{statusLabel(state)}</tspan>
                </text>
              </g>
            );
          })}
        </svg>
      </div>
      <figcaption>
        {step ? (
          <div className={`step step-${states[step.id] ?? "pending"}`}>
            <span className="step-id">{step.id}</span> <span className="step-kind">{step.module ?? step.kind}</span>{" "}
            <Status state={states[step.id] ?? "pending"} />
            {step.incoming.length > 0 && (
              <span className="step-after">
                {" "}
                after {step.incoming.map((e) => (e.branch ? `${e.source} when ${e.branch}` : e.source)).join(", ")}
              </span>
            )}
            {(live[step.id] ?? []).map((text, i) => (
              <pre key={i} className="live" aria-label="streamed output">
                {text}
              </pre>
            ))}
          </div>
        ) : (
          <span className="note">Choose a step to see its details.</span>
        )}
      </figcaption>
    </figure>
  );
}
