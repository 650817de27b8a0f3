import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import * as L from "../src/logic.js";

const fixture = JSON.parse(readFileSync(new URL("./fixtures/visible_rows.json", import.meta.url), "utf-8"));
const rows = fixture.rows.map(L.fromWire);

function options(o) {
  return { sort: o.sort, descending: o.descending, showHidden: o.show_hidden, pattern: o.pattern };
}

for (const c of fixture.cases) {
  test(`visible rows ${JSON.stringify(c.options)} match the Python side`, () => {
    assert.deepEqual(L.visibleRows(rows, options(c.options)).map((r) => r.name), c.expected);
  });
}

for (const c of fixture.searches) {
  test(`search ${c.text} matches the Python side`, () => {
    assert.equal(L.search(L.visibleRows(rows), c.text), c.focus);
  });
}

test("glob translation follows fnmatch", () => {
  const cases = [["*.csv", "a.CSV", true], ["data-?.txt", "data-1.txt", true], ["data-?.txt", "data-10.txt", false],
    ["[!a]*", "abc", false], ["[!a]*", "bcd", true], ["a[", "a[", true], ["x.y", "xzy", false], ["report", "my report.pdf", true],
    ["(a)+", "(a)+", true]];
  for (const [pattern, name, expected] of cases) assert.equal(L.globToRegExp(pattern).test(name), expected, pattern);
  assert.equal(L.globToRegExp(""), null);
});

test("focus moves and clamps", () => {
  const visible = L.visibleRows(rows);
  assert.equal(L.moveFocus(visible, "data", 3), "alpha.txt");
  assert.equal(L.moveFocus(visible, "data", 1000), visible.at(-1).name);
  assert.equal(L.moveFocus(visible, "data", -5), "data");
  assert.equal(L.moveFocus(visible, "gone", 1), "Zeta");
  assert.equal(L.moveFocus([], "x", 1), null);
});

test("the virtual window renders only what is on screen", () => {
  assert.deepEqual(L.windowFor(0, 400, 20, 100000, 5), { start: 0, end: 25 });
  assert.deepEqual(L.windowFor(2000000, 400, 20, 100000, 5), { start: 99995, end: 100000 });
  assert.deepEqual(L.windowFor(1000, 400, 20, 100000, 0), { start: 50, end: 70 });
  assert.equal(L.scrollToShow(0, 400, 20, 30), 220);
  assert.equal(L.scrollToShow(500, 400, 20, 10), 200);
  assert.equal(L.scrollToShow(100, 400, 20, 10), 100);
});

test("select all toggles", () => {
  const visible = L.visibleRows(rows);
  const all = L.toggleAll(visible, []);
  assert.equal(all.length, visible.length);
  assert.deepEqual(L.toggleAll(visible, all), []);
});

test("formatting sizes, dates, paths and Python literals", () => {
  assert.equal(L.formatSize(1536), "1.5 KiB");
  assert.equal(L.formatSize(null), "");
  assert.match(L.formatDate(1704067200), /^2024-01-0[12] \d\d:\d\d$/);
  assert.equal(L.joinPath("s3://", "demo"), "s3://demo/");
  assert.equal(L.joinPath("s3://demo/", "a b.csv"), "s3://demo/a b.csv");
  assert.equal(L.joinPath("/home/me", "x"), "/home/me/x");
  assert.equal(L.pythonString("it's a \\ path\n"), "'it\\'s a \\\\ path\\n'");
  assert.equal(L.pathCode("s3://demo/sales", ["a.csv"]), "from tfm_jupyter import Path\np = Path('s3://demo/sales/a.csv')");
  assert.match(L.pathCode("s3://demo", ["a", "b"]), /paths = \[\n {4}Path\('s3:\/\/demo\/a'\),\n {4}Path\('s3:\/\/demo\/b'\),\n\]/);
});

test("status line", () => {
  const visible = L.visibleRows(rows);
  assert.equal(L.statusLine(visible, rows, []), "9 items · listed");
  assert.equal(L.statusLine(visible, rows, ["beta.csv", "archive.tar.gz"], { cached: true }),
    "9 items · 2 selected (600 B) · from cache");
  assert.equal(L.statusLine(visible, rows, [], { complete: false }), "9 items · listing…");
  assert.equal(L.statusLine(visible.slice(0, 1), rows, []), "1 item · listed");
  assert.equal(L.statusLine(visible, rows, [], { error: "Access denied" }), "Access denied");
});

test("sorting 100,000 rows stays fast", () => {
  const many = Array.from({ length: 100000 }, (_, i) => L.fromWire([`part-${(i * 7919) % 100000}.log`, 0, i, i]));
  const started = performance.now();
  const visible = L.visibleRows(many, { sort: "name" });
  const elapsed = performance.now() - started;
  assert.equal(visible.length, 100000);
  assert.equal(visible[0].name, "part-0.log");
  assert.ok(elapsed < 2000, `sorting took ${elapsed} ms`);
});

test("select all and the status line stay fast with 100,000 selected rows", () => {
  const many = Array.from({ length: 100000 }, (_, i) => L.fromWire([`f${i}`, 0, 1, i]));
  const started = performance.now();
  const all = L.toggleAll(many, []);
  assert.equal(L.toggleAll(many, all).length, 0);
  assert.match(L.statusLine(many, many, all), /100,000 selected \(97\.7 KiB\)/);
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 2000, `took ${elapsed} ms`);
});

test("file kinds choose the row's icon", () => {
  assert.equal(L.fileKind("sales.CSV"), "table");
  assert.equal(L.fileKind("part-0.parquet"), "table");
  assert.equal(L.fileKind("sunrise.png"), "image");
  assert.equal(L.fileKind("notes.md"), "text");
  assert.equal(L.fileKind("archive.tar.gz"), "");
  assert.equal(L.fileKind(".bashrc"), "");
});

test("the treemap fills the box, each area in proportion, nothing overlapping", () => {
  const sizes = [500, 250, 0, 125, 75, 50];
  const rects = L.treemap(sizes, 100, 60);
  assert.equal(rects.length, 5);  // no rectangle for nothing
  const total = 1000;
  for (const r of rects) {
    assert.ok(Math.abs(r.w * r.h - (sizes[r.index] / total) * 6000) < 1e-6);
    assert.ok(r.x >= -1e-9 && r.y >= -1e-9 && r.x + r.w <= 100 + 1e-9 && r.y + r.h <= 60 + 1e-9);
  }
  for (const a of rects) for (const b of rects) {
    if (a === b) continue;
    const apart = a.x + a.w <= b.x + 1e-9 || b.x + b.w <= a.x + 1e-9 || a.y + a.h <= b.y + 1e-9 || b.y + b.h <= a.y + 1e-9;
    assert.ok(apart, `${a.index} and ${b.index} overlap`);
  }
  assert.deepEqual(L.treemap([0, 0], 10, 10), []);
  const [only] = L.treemap([7], 40, 20);
  assert.deepEqual([only.x, only.y, only.w, only.h], [0, 0, 40, 20]);
});
