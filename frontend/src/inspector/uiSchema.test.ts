import { describe, expect, test } from "vitest";
import { TYPES } from "../test/fixtures";
import { errorTree, splitPath, uiSchemaFor } from "./uiSchema";
import { openTemplateVar } from "./widgets";

describe("forms from the registry", () => {
  test("rules, code and template fields get their editors", () => {
    expect(uiSchemaFor(TYPES["logic.condition"]).rules).toMatchObject({ "ui:field": "rules" });
    expect(uiSchemaFor(TYPES["logic.switch"])).toMatchObject({ cases: { items: { rules: { "ui:field": "rules" } } } });
    expect(uiSchemaFor(TYPES["action.custom_code"]).code).toEqual({ "ui:field": "code" });
    expect(uiSchemaFor(TYPES["action.send_message"]).text).toEqual({ "ui:widget": "template" });
    expect(uiSchemaFor(TYPES["action.update_user"]).changes).toBeUndefined(); // an object stays a plain form
  });

  test("server issues become errors beside their field", () => {
    const ui = uiSchemaFor(TYPES["logic.switch"]);
    const tree = errorTree(
      [
        { code: "bad_params", message: "name: does not match", path: "cases[0].name" },
        { code: "bad_rule", message: "unknown operator", path: "cases[1].rules.all[0].op" },
      ],
      ui,
    );
    expect(tree).toEqual({ cases: { 0: { name: { __errors: ["name: does not match"] } }, 1: { rules: { __errors: ["unknown operator"] } } } });
    expect(splitPath("a[2].b")).toEqual(["a", "2", "b"]);
  });

  test("typing {{ opens variable suggestions until }}", () => {
    expect(openTemplateVar("Hi {{ user.fi", 13)).toBe("user.fi");
    expect(openTemplateVar("Hi {{ user.first_name }} x", 25)).toBeNull();
    expect(openTemplateVar("no braces", 9)).toBeNull();
  });
});
