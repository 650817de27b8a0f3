// Pure logic of the browser front end: ordering, filtering, search, virtual scrolling, formatting.
// Mirrors tfm_jupyter/browser/pane.py; both are tested against js/test/fixtures/visible_rows.json.

export const SORTS = ["name", "ext", "size", "date"];

/** A row as the front end keeps it (wire form: [name, isDir, size, mtime]). */
export function fromWire([name, isDir, size, mtime]) {
  return { name, isDir: Boolean(isDir), size: size ?? null, mtime: mtime ?? null, lower: name.toLowerCase() };
}

/** "a.tar.gz" -> "gz"; ".bashrc" -> "" (like pathlib's suffix). */
export function extension(name) {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
}

/** Python's fnmatch.translate, case-insensitive; a pattern without wildcards matches substrings. */
const KINDS = {
  table: ["csv", "tsv", "parquet", "pq", "xlsx", "xls", "feather", "arrow", "orc", "avro"],
  image: ["png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "tif", "tiff"],
  text: ["txt", "md", "log", "json", "jsonl", "ndjson", "yaml", "yml", "toml", "py", "ipynb", "sql", "sh", "xml", "html"],
};

/** What a file's icon shows: "table", "image", "text" or "" (any other file). */
export function fileKind(name) {
  const ext = extension(name);
  return Object.keys(KINDS).find((kind) => KINDS[kind].includes(ext)) ?? "";
}

export function globToRegExp(pattern) {
  if (!pattern) return null;
  if (!/[*?[]/.test(pattern)) pattern = `*${pattern}*`;
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "*") out += ".*";
    else if (ch === "?") out += ".";
    else if (ch === "[") {
      const close = pattern.indexOf("]", i + 2);
      if (close === -1) {
        out += "\\[";
      } else {
        let body = pattern.slice(i + 1, close).replace(/\\/g, "\\\\");
        if (body[0] === "!") body = "^" + body.slice(1);
        else if (body[0] === "^") body = "\\" + body;
        out += `[${body}]`;
        i = close;
      }
    } else out += ch.replace(/[.+^${}()|\\\]]/g, "\\$&");
  }
  return new RegExp(`^${out}$`, "is");
}

function compareStrings(a, b) {
  return a < b ? -1 : a > b ? 1 : 0; // UTF-16 code units, like the Python side's keys
}

function byName(a, b) {
  return compareStrings(a.lower, b.lower) || compareStrings(a.name, b.name);
}

const COMPARE = {
  name: byName,
  ext: (a, b) => compareStrings(extension(a.name), extension(b.name)) || byName(a, b),
  size: (a, b) => (a.size ?? 0) - (b.size ?? 0) || byName(a, b),
  date: (a, b) => (a.mtime ?? 0) - (b.mtime ?? 0) || byName(a, b),
};

/** The rows a pane shows, in order: directories first, then files, each sorted. */
export function visibleRows(rows, { sort = "name", descending = false, showHidden = false, pattern = "" } = {}) {
  const regex = globToRegExp(pattern);
  const compare = COMPARE[sort] ?? COMPARE.name;
  const ordered = descending ? (a, b) => compare(b, a) : compare;
  const dirs = [];
  const files = [];
  for (const row of rows) {
    if (!showHidden && row.name.startsWith(".")) continue;
    if (row.isDir) dirs.push(row);
    else if (!regex || regex.test(row.name)) files.push(row);
  }
  return dirs.sort(ordered).concat(files.sort(ordered));
}

/** Incremental search: the first visible name starting with (else containing) text, or null. */
export function search(visible, text) {
  const needle = text.toLowerCase();
  const hit = visible.find((r) => r.lower.startsWith(needle)) ?? visible.find((r) => r.lower.includes(needle));
  return hit ? hit.name : null;
}

/** Index of the focused name among visible rows (0 when absent). */
export function focusIndex(visible, focus) {
  const index = visible.findIndex((r) => r.name === focus);
  return index < 0 ? 0 : index;
}

/** The name focused after moving by delta rows, clamped to the list. */
export function moveFocus(visible, focus, delta) {
  if (!visible.length) return null;
  const index = Math.max(0, Math.min(visible.length - 1, focusIndex(visible, focus) + delta));
  return visible[index].name;
}

/** Which rows to render for a scroll position: [start, end) with some overscan. */
export function windowFor(scrollTop, viewportHeight, rowHeight, count, overscan = 10) {
  const first = Math.floor(scrollTop / rowHeight);
  const shown = Math.ceil(viewportHeight / rowHeight);
  return { start: Math.max(0, first - overscan), end: Math.min(count, first + shown + overscan) };
}

/** The scrollTop that keeps row `index` visible (unchanged if it already is). */
export function scrollToShow(scrollTop, viewportHeight, rowHeight, index) {
  const top = index * rowHeight;
  if (top < scrollTop) return top;
  if (top + rowHeight > scrollTop + viewportHeight) return top + rowHeight - viewportHeight;
  return scrollTop;
}

/** Space toggles; select all selects every visible row, or clears when all were selected. */
export function toggleAll(visible, selection) {
  const chosen = new Set(selection);
  const names = visible.map((r) => r.name);
  const all = names.length > 0 && names.every((n) => chosen.has(n));
  return all ? [] : names;
}

export function formatSize(size) {
  if (size === null || size === undefined) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = size;
  for (const unit of units) {
    if (Math.abs(value) < 1024 || unit === "TiB") return unit === "B" ? `${value} B` : `${value.toFixed(1)} ${unit}`;
    value /= 1024;
  }
  return "";
}

export function formatDate(mtime) {
  if (!mtime) return "";
  const d = new Date(mtime * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The full location of a child: "s3://b/dir" + "x" -> "s3://b/dir/x"; "s3://" + "b" -> "s3://b/". */
export function joinPath(cwd, name) {
  if (cwd === "s3://") return `s3://${name}/`;
  return cwd.endsWith("/") ? cwd + name : `${cwd}/${name}`;
}

/** A Python string literal that round-trips any key (quotes, backslashes, newlines). */
export function pythonString(text) {
  const escaped = text.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\n/g, "\\n").replace(/\r/g, "\\r");
  return `'${escaped}'`;
}

/** Code that recreates the chosen paths in a notebook cell. */
export function pathCode(cwd, names) {
  const paths = names.map((n) => `Path(${pythonString(joinPath(cwd, n))})`);
  if (paths.length === 1) return `from tfm_jupyter import Path\np = ${paths[0]}`;
  return `from tfm_jupyter import Path\npaths = [\n${paths.map((p) => `    ${p},`).join("\n")}\n]`;
}

/** One status line: items, selection count and size, and whether the listing came from the cache. */
export function statusLine(visible, rows, selection, { complete = true, cached = false, error = "" } = {}) {
  if (error) return error;
  const selected = new Set(selection);
  const chosen = selection.length ? rows.filter((r) => selected.has(r.name)) : [];
  const bytes = chosen.reduce((sum, r) => sum + (r.isDir ? 0 : r.size ?? 0), 0);
  const count = visible.length.toLocaleString("en-US");
  const parts = [`${count} ${visible.length === 1 ? "item" : "items"}`];
  if (chosen.length) parts.push(`${chosen.length.toLocaleString("en-US")} selected (${formatSize(bytes)})`);
  parts.push(complete ? (cached ? "from cache" : "listed") : "listing…");
  return parts.join(" · ");
}


/** A squarified treemap (Bruls, Huizing, van Wijk): rectangles {x, y, w, h, index} for `sizes` (any
 * order; zero sizes get none) filling width × height, each as near a square as the layout allows. */
export function treemap(sizes, width, height) {
  const order = sizes.map((size, index) => ({ size, index })).filter((item) => item.size > 0)
    .sort((a, b) => b.size - a.size);
  const total = order.reduce((sum, item) => sum + item.size, 0);
  if (!total || width <= 0 || height <= 0) return [];
  const scale = (width * height) / total;
  const rects = [];
  let box = { x: 0, y: 0, w: width, h: height };
  let row = [];
  const worst = (items, side) => {
    const sum = items.reduce((s, item) => s + item.area, 0);
    const areas = items.map((item) => item.area);
    return Math.max((side * side * Math.max(...areas)) / (sum * sum), (sum * sum) / (side * side * Math.min(...areas)));
  };
  const place = () => {  // the row along the box's shorter side, then the rest of the box
    const sum = row.reduce((s, item) => s + item.area, 0);
    const across = box.w >= box.h;
    const thickness = sum / (across ? box.h : box.w);
    let offset = 0;
    for (const item of row) {
      const length = item.area / thickness;
      rects.push(across ? { x: box.x, y: box.y + offset, w: thickness, h: length, index: item.index }
        : { x: box.x + offset, y: box.y, w: length, h: thickness, index: item.index });
      offset += length;
    }
    box = across ? { x: box.x + thickness, y: box.y, w: box.w - thickness, h: box.h }
      : { x: box.x, y: box.y + thickness, w: box.w, h: box.h - thickness };
    row = [];
  };
  for (const item of order.map((o) => ({ ...o, area: o.size * scale }))) {
    const side = Math.min(box.w, box.h);
    if (row.length && worst([...row, item], side) > worst(row, side)) place();
    row.push(item);
  }
  if (row.length) place();
  return rects;
}
