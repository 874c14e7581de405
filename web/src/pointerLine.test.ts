import { expect, test } from "vitest";
import { pointerLine } from "./pointerLine";

const source = `stepwise: 1
name: broken
steps:
  - id: a
    module: no.such_module
  # a comment
  - id: a
    module: transform.template
    inputs:
      template: "{{ x }}"
`;

test("a problem's pointer is found on its line", () => {
  expect(pointerLine(source, "/steps/0/module")).toBe(5);
  expect(pointerLine(source, "/steps/1/id")).toBe(7);
  expect(pointerLine(source, "/steps/1/inputs/template")).toBe(10);
  expect(pointerLine(source, "/name")).toBe(2);
  // Past what the text has: the nearest line it has.
  expect(pointerLine(source, "/steps/1/inputs/nothing")).toBe(9);
  expect(pointerLine(source, "/nothing")).toBeNull();
});
