import { test } from "node:test";
import assert from "node:assert/strict";

import { BUTTONS, KEY_TABLE, buttonsTable, commandFor, commandNames, helpRows, markdownTable } from "../src/keys.js";
import { COMMANDS } from "../src/widget.js";

test("the widget implements exactly the commands the key table names", () => {
  assert.deepEqual([...commandNames()].sort(), Object.keys(COMMANDS).sort());
});

test("the help overlay is the key table", () => {
  assert.equal(helpRows().length, KEY_TABLE.length);
  assert.deepEqual(helpRows()[0], ["Tab", "switch pane"]);
  for (const [label, help] of helpRows()) assert.ok(label && help, `${label}: ${help}`);
  assert.ok(helpRows().some(([label]) => label === "="), "compare is documented");
});

test("no key is bound twice", () => {
  const keys = KEY_TABLE.flatMap((entry) => Object.keys(entry.bind));
  assert.equal(new Set(keys).size, keys.length);
});

test("keys map to their commands; modifiers change the answer", () => {
  assert.equal(commandFor({ key: "ArrowDown" }), "down");
  assert.equal(commandFor({ key: "Tab", shiftKey: true }), "switchPane");
  assert.equal(commandFor({ key: "c" }), "copy");
  assert.equal(commandFor({ key: "F" }), "findName");
  assert.equal(commandFor({ key: "+" }), "synchronize");
  assert.equal(commandFor({ key: "!" }), "run");
  assert.equal(commandFor({ key: "r" }), "rename");
  assert.equal(commandFor({ key: "r", ctrlKey: true }), "refresh");
  assert.equal(commandFor({ key: "F5" }), "copy");  // as in Midnight/Total Commander
  assert.equal(commandFor({ key: "F6" }), "move");
  assert.equal(commandFor({ key: "F7" }), "mkdir");
  assert.equal(commandFor({ key: "F8" }), "delete");
  assert.equal(commandFor({ key: "F3" }), "open");
  assert.equal(commandFor({ key: "F1" }), "help");
  assert.equal(commandFor({ key: "R", metaKey: true }), "refresh");
  assert.equal(commandFor({ key: "c", ctrlKey: true }), null);  // Ctrl-C copies text, as the browser does
  assert.equal(commandFor({ key: "a", altKey: true }), null);
  assert.equal(commandFor({ key: "x" }), null);
  assert.equal(commandFor({ key: "constructor" }), null);  // names of Object's own properties are not keys
});

test("the README's table is made from the same rows, pipes escaped", () => {
  const table = markdownTable([{ label: "a | b", help: "x" }]);
  assert.equal(table, "| key | does |\n|---|---|\n| a \\| b | x |");
  assert.equal(markdownTable().split("\n").length, KEY_TABLE.length + 2);
});

test("every button and menu entry runs a command the widget has, and names its key", () => {
  for (const { label, command, key, help } of BUTTONS) {
    assert.ok(Object.hasOwn(COMMANDS, command), label);
    assert.ok(key && help, label);
  }
  assert.equal(buttonsTable().split("\n").length, BUTTONS.length + 2);
  assert.deepEqual(BUTTONS.map((b) => b.label).slice(0, 5), ["View", "Copy", "Move", "New folder", "Delete"]);
});
