import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { expect, test } from "vitest";
import { planSteps } from "../plan";
import { layout } from "./layout";
import PlanGraph from "./PlanGraph";

// The shape of support-triage (docs/examples): a choice, a branch, and a join.
const node = (id: string, after: { source: string; branch?: string }[], kind = "module") => ({
  id,
  kind,
  module: kind === "module" ? "transform.extract" : undefined,
  after: after.map((e) => ({ source: e.source, branch: e.branch ?? null })),
});
const plan = {
  form: "graph",
  body: {
    nodes: [
      node("classify", [{ source: "@start" }]),
      node("route", [{ source: "classify" }], "route"),
      node("technical", [{ source: "route", branch: "true" }]),
      node("general", [{ source: "route", branch: "false" }]),
      node("incidents", [{ source: "technical" }]),
      node("draft", [{ source: "incidents" }, { source: "general" }]),
    ],
  },
};

test("each node sits a layer below its deepest source; a choice's branches are labelled", () => {
  const drawn = layout(planSteps(plan));
  const layer = Object.fromEntries(drawn.nodes.map((n) => [n.step.id, n.layer]));
  expect(layer).toEqual({ classify: 0, route: 1, technical: 2, general: 2, incidents: 3, draft: 4 });
  const y = Object.fromEntries(drawn.nodes.map((n) => [n.step.id, n.y]));
  expect(y.draft).toBeGreaterThan(y.incidents ?? Infinity);
  // Two sources side by side, the single nodes centred: it fits a 375 px screen.
  expect(drawn.width).toBeLessThanOrEqual(343);
  expect(drawn.edges.map((e) => `${e.source}>${e.target}${e.branch ? `:${e.branch}` : ""}`).sort()).toEqual(
    ["classify>route", "general>draft", "incidents>draft", "route>general:false", "route>technical:true", "technical>incidents"].sort(),
  );
});

test("a cycle or an unknown source does not hang the layout", () => {
  const steps = planSteps({
    form: "graph",
    body: { nodes: [node("a", [{ source: "b" }]), node("b", [{ source: "a" }]), node("c", [{ source: "nowhere" }])] },
  });
  const drawn = layout(steps);
  expect(drawn.nodes).toHaveLength(3);
});

test("nodes say their status in words and are chosen with the keyboard", async () => {
  const user = userEvent.setup();
  render(<PlanGraph steps={planSteps(plan)} states={{ classify: "done", route: "done", technical: "running" }} live={{ technical: ["partial text"] }} />);
  const technical = screen.getByRole("button", { name: "technical, transform.extract, running, after route (true)" });
  expect(screen.getByRole("button", { name: /^general, .*, pending/ })).toBeInTheDocument();
  expect(technical).toHaveClass("graph-running");
  await user.tab();
  expect(screen.getByRole("button", { name: /^classify,/ })).toHaveFocus();
  technical.focus();
  await user.keyboard("{Enter}");
  expect(technical).toHaveAttribute("aria-pressed", "true");
  expect(screen.getByText("after route when true")).toBeInTheDocument();
  expect(screen.getByLabelText("streamed output")).toHaveTextContent("partial text");
});
