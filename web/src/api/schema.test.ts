// schema.d.ts is generated from openapi.json (which tests/unit/test_web_api_types.py holds to
// the API); this holds the types to that document, so neither can go stale unnoticed.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";

test("schema.d.ts is what openapi-typescript makes of openapi.json", () => {
  const out = join(mkdtempSync(join(tmpdir(), "stepwise-types-")), "schema.d.ts");
  execFileSync("node_modules/.bin/openapi-typescript", ["src/api/openapi.json", "-o", out], { stdio: "ignore" });
  const committed = readFileSync("src/api/schema.d.ts", "utf8");
  expect(committed === readFileSync(out, "utf8"), "src/api/schema.d.ts is stale: run `make web-api`").toBe(true);
}, 30_000);
