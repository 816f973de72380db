import { describe, expect, test } from "vitest";
import { coupon } from "../test/fixtures";
import * as m from "./conditionModel";
import { earlierNodes } from "./contextPaths";

describe("condition builder model", () => {
  test("operators fit the field's type", () => {
    expect(m.operatorsFor("list")).toContain("contains");
    expect(m.operatorsFor("list")).not.toContain("greater");
    expect(m.operatorsFor("number")).toContain("between");
    expect(m.operatorsFor("number")).not.toContain("starts_with");
    expect(m.operatorsFor("string")).toContain("matches_regex");
    expect(m.operatorsFor(undefined)).toEqual(m.OPERATORS.any);
  });

  test("each operator takes the value shape it needs", () => {
    expect(m.valueShape("in")).toBe("list");
    expect(m.valueShape("between")).toBe("pair");
    expect(m.valueShape("is_empty")).toBe("none");
    expect(m.valueShape("equals")).toBe("single");
  });

  test("changing the operator converts the value", () => {
    const leaf: m.Leaf = { field: "user.fields.age", op: "equals", value: 30 };
    expect(m.withOperator(leaf, "in")).toEqual({ field: "user.fields.age", op: "in", value: [30] });
    expect(m.withOperator(leaf, "between")).toEqual({ field: "user.fields.age", op: "between", value: [30, ""] });
    expect(m.withOperator(leaf, "is_empty")).toEqual({ field: "user.fields.age", op: "is_empty" });
    expect(m.withOperator({ ...leaf, op: "in", value: [1, 2] }, "equals").value).toBe(1);
  });

  test("numbers typed into a numeric field are numbers", () => {
    expect(m.typedValue("42", "number")).toBe(42);
    expect(m.typedValue("42", "string")).toBe("42");
    expect(m.typedValue("abc", "number")).toBe("abc");
  });

  test("nested groups are edited by path, immutably", () => {
    let root: m.Rule = { all: [] };
    root = m.addChild(root, [], m.newLeaf("user.tags"));
    root = m.addChild(root, [], { any: [] });
    root = m.addChild(root, [1], { field: "event.data.content", op: "icontains", value: "coupon" });
    root = m.addChild(root, [1], { not: { field: "user.email", op: "is_empty" } });
    const before = JSON.stringify(root);
    const next = m.updateAt(root, [1, 1, 0], (r) => ({ ...(r as m.Leaf), op: "is_not_empty" }));
    expect(JSON.stringify(root)).toBe(before);
    expect(m.getAt(next, [1, 1, 0])).toEqual({ field: "user.email", op: "is_not_empty" });
    expect(m.kindOf(m.getAt(next, [1]))).toBe("any");
    const removed = m.removeAt(next, [1, 0]);
    expect(m.childrenOf(m.getAt(removed, [1]))).toHaveLength(1);
    expect(m.setGroupKind(m.getAt(removed, [1]), "all")).toHaveProperty("all");
    expect(m.negate(m.negate({ field: "a", op: "is_null" }))).toEqual({ field: "a", op: "is_null" });
  });

  test("empty stored rules open as an empty all-group", () => {
    expect(m.asRoot({})).toEqual({ all: [] });
    expect(m.asRoot(undefined)).toEqual({ all: [] });
    expect(m.asRoot({ any: [] })).toEqual({ any: [] });
  });
});

test("the field picker offers the outputs of earlier nodes only", () => {
  const g = coupon();
  expect([...earlierNodes(g.edges, "send")].sort()).toEqual(["interested", "trigger"]);
  expect([...earlierNodes(g.edges, "trigger")]).toEqual([]);
});
