// The two-pane browser view (an anywidget front-end module).
//
// State that both sides need lives in traitlets (left_state/right_state, active, dialog, job,
// message, preview).  Rows arrive in pages as custom messages and stay here: sorting, filtering
// and the virtual list work on them locally, so a 100,000-entry folder scrolls without asking the
// kernel.  Names are untrusted and always rendered with textContent.
import * as L from "./logic.js";
import { VirtualList, h } from "./dom.js";
import { BUTTONS, commandFor, helpRows } from "./keys.js";

const PANES = ["left", "right"];
const MARK_TITLES = { only: "only in this pane", newer: "newer in this pane", differs: "differs from the other pane" };
const CHUNK = 4 * 1024 * 1024;  // bytes a comm message carries (JupyterLab's websocket refuses ~10 MB)
const RESULT_CAP_NOTE = "more… (only the first 10,000 are listed: narrow the search)";

/** Files dropped from the desktop, folders walked (names relative to what was dropped).  The entries
 * are taken while the drop event lasts: a DataTransfer is emptied once its handler returns. */
function droppedFiles(dataTransfer) {
  const entries = [...(dataTransfer.items ?? [])].map((item) => item.webkitGetAsEntry?.()).filter(Boolean);
  if (!entries.length) return Promise.resolve([...dataTransfer.files].map((file) => ({ file, name: file.name })));
  const walk = async (entry, prefix) => {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      return [{ file, name: prefix + entry.name }];
    }
    const reader = entry.createReader();
    const children = [];
    for (;;) {  // readEntries answers in batches until an empty one
      const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
      if (!batch.length) break;
      children.push(...batch);
    }
    const nested = await Promise.all(children.map((child) => walk(child, `${prefix}${entry.name}/`)));
    return nested.flat();
  };
  return Promise.all(entries.map((entry) => walk(entry, ""))).then((lists) => lists.flat());
}

const STORAGE_CLASS_COLOURS = ["--jp-brand-color1", "--jp-warn-color1", "--jp-success-color1", "--jp-error-color1",
  "--jp-info-color1"];

/** "What is using my storage?": a treemap of the sub-folders (their colour: the storage class holding
 * most of their bytes), then a table with files, bytes, classes and the monthly cost.  Text only. */
function usageView({ root = "", bytes = 0, files = 0, requests = 0, monthly_cost: cost = null, folders = [],
  inventory_time: taken = null }) {
  const el = h("div", "tfm-usage");
  const money = (usd) => {
    if (usd === null || usd === undefined) return "price unknown";
    return usd > 0 && usd < 0.0001 ? "< $0.0001/month" : `$${usd.toFixed(usd < 1 ? 4 : 2)}/month`;
  };
  el.append(h("div", "tfm-usage-summary", `${L.formatSize(bytes)} in ${files.toLocaleString("en-US")} ${files === 1 ? "file" : "files"} · ` +
    `${money(cost)} · ${requests.toLocaleString("en-US")} ${requests === 1 ? "request" : "requests"} to measure` +
    (taken ? ` · from the inventory of ${taken}` : "")));
  const classes = [...new Set(folders.flatMap((f) => Object.keys(f.by_class ?? {})))].sort();
  const colour = (name) => `var(${STORAGE_CLASS_COLOURS[classes.indexOf(name) % STORAGE_CLASS_COLOURS.length]})`;
  const map = h("div", "tfm-treemap");
  const label = (folder) => folder.name === "" ? "(files here)" : `${folder.name}/`;
  for (const rect of L.treemap(folders.map((f) => f.bytes), 100, 100)) {
    const folder = folders[rect.index];
    const main = Object.entries(folder.by_class ?? {}).sort((a, b) => b[1] - a[1])[0]?.[0];
    const cell = h("div", "tfm-treemap-cell");
    Object.assign(cell.style, { left: `${rect.x}%`, top: `${rect.y}%`, width: `${rect.w}%`, height: `${rect.h}%`,
      background: `color-mix(in srgb, ${colour(main)} 35%, var(--tfm-bg))` });
    cell.title = `${label(folder)} ${L.formatSize(folder.bytes)} (${main})`;
    cell.append(h("span", "tfm-treemap-name", label(folder)), h("span", "tfm-treemap-size", L.formatSize(folder.bytes)));
    map.append(cell);
  }
  const legend = h("div", "tfm-usage-legend");
  for (const name of classes) {
    const key = h("span", "tfm-usage-class", name || "(no storage class)");
    key.style.setProperty("--tfm-class-colour", colour(name));
    legend.append(key);
  }
  const table = h("table", "tfm-preview-table tfm-usage-table");
  const head = h("tr");
  for (const title of ["folder", "files", "size", "storage classes", "per month"]) head.append(h("th", "", title));
  table.append(head);
  for (const folder of folders) {
    const tr = h("tr");
    const spread = Object.entries(folder.by_class ?? {}).map(([name, size]) => `${name || "—"} ${L.formatSize(size)}`)
      .join(", ");
    for (const text of [label(folder), folder.files.toLocaleString("en-US"), L.formatSize(folder.bytes), spread,
      money(folder.monthly_cost)]) tr.append(h("td", "", text));
    table.append(tr);
  }
  el.append(map, legend, table);
  el.dataset.root = root;
  return el;
}

/** A preview's table (CSV head, parquet's first rows); every cell is text, never markup. */
function previewTable({ columns = [], rows = [], more = false }) {
  const table = h("table", "tfm-preview-table");
  const head = h("tr");
  for (const name of columns) head.append(h("th", "", String(name)));
  table.append(head);
  for (const row of rows) {
    const tr = h("tr");
    for (const cell of row) tr.append(h("td", "", String(cell)));
    table.append(tr);
  }
  if (more) table.append(h("caption", "tfm-preview-more", "first rows only"));
  return table;
}

class PaneView {
  constructor(browser, side) {
    this.browser = browser;
    this.side = side;
    this.rows = [];
    this.rowsVersion = 0;
    this.visible = [];
    this.visibleKey = "";
    this.listing = -1;
    this.el = h("div", "tfm-pane");
    this.el.dataset.side = side;
    this.path = h("input", "tfm-path");
    this.path.spellcheck = false;
    this.path.setAttribute("aria-label", `${side} path`);
    const bar = h("div", "tfm-pathbar");
    const buckets = h("button", "tfm-drive", "S3");
    buckets.title = "bucket list";
    buckets.onclick = () => browser.send("cd", side, { path: "s3://" });
    const home = h("button", "tfm-drive", "~");
    home.title = "local home folder";
    home.onclick = () => browser.send("cd", side, { path: "~" });
    bar.append(buckets, home, this.path);
    this.header = h("div", "tfm-header");
    for (const [key, label] of [["name", "Name"], ["size", "Size"], ["date", "Modified"]]) {
      const cell = h("span", `tfm-col-${key}`, label);
      cell.onclick = () => this.setSort(key);
      this.header.append(cell);
    }
    this.rowList = new VirtualList("tfm-list", (index) => this.renderRow(index));
    this.list = this.rowList.el;
    this.local = { listing: undefined, changes: {} };
    this.status = h("div", "tfm-status");
    this.el.append(bar, this.header, this.list, this.status);
    this.path.addEventListener("keydown", (event) => {
      event.stopPropagation();
      if (event.key === "Enter") {
        browser.send("cd", side, { path: this.path.value });
        this.path.value = this.state().cwd ?? "";  // the folder shown, until (and unless) the new one opens
        browser.root.focus();
      } else if (event.key === "Escape") {
        this.path.value = this.state().cwd;
        browser.root.focus();
      }
    });
    this.list.addEventListener("mousedown", (event) => this.click(event));
    this.list.addEventListener("dblclick", () => this.browser.send("open", this.side));
    this.list.addEventListener("contextmenu", (event) => this.browser.openMenu(event, this));
    this.list.addEventListener("dragstart", (event) => this.dragStart(event));
    this.list.addEventListener("dragover", (event) => this.dragOver(event));
    this.list.addEventListener("drop", (event) => this.drop(event));
  }

  state() {
    const model = this.browser.model;
    const kernel = model.get(`${this.side}_state`) || {};
    const chosen = model.get(`${this.side}_selection`) || {};
    const state = { ...kernel, selection: chosen.listing === kernel.listing ? chosen.names ?? [] : [] };
    // What this view changed is newer than the kernel's mirror of it, until the kernel lists anew.
    return this.local.listing === kernel.listing ? { ...state, ...this.local.changes } : state;
  }

  update(changes) {
    const listing = (this.browser.model.get(`${this.side}_state`) || {}).listing;
    if (this.local.listing !== listing) this.local = { listing, changes: {} };
    Object.assign(this.local.changes, changes);
    // The one channel for pane state: a message, which the comm delivers in order with every action,
    // so the kernel acts on what the screen shows.  Only what changed travels: a cursor move never
    // resends 100,000 selected names.
    this.browser.model.send({ action: "state", pane: this.side, state: { ...changes, listing } });
    this.refresh();
  }

  receive(message) {
    if (message.listing < this.listing) return;
    if (message.listing > this.listing || message.reset) {
      // a new listing, or the kernel re-sending everything for a (new) view: start over
      this.listing = message.listing;
      this.rows = [];
      this.rowsVersion++;
    }
    for (const item of message.rows) this.rows.push(L.fromWire(item));
    this.rowsVersion++;
    this.refresh();
  }

  refresh() {
    const state = this.state();
    if (state.listing !== undefined && state.listing > this.listing) {
      this.listing = state.listing;
      this.rows = [];
      this.rowsVersion++;
    }
    // Sorting 100,000 rows takes a while: only when the rows or the ordering change, not per key.
    const key = JSON.stringify([this.listing, this.rowsVersion, state.sort, state.descending, state.show_hidden,
      state.pattern]);
    if (key !== this.visibleKey) {
      this.visibleKey = key;
      this.visible = L.visibleRows(this.rows, {
        sort: state.sort, descending: state.descending, showHidden: state.show_hidden, pattern: state.pattern,
      });
    }
    if (document.activeElement !== this.path) this.path.value = state.cwd ?? "";
    const arrow = state.descending ? " ▼" : " ▲";
    for (const cell of this.header.children) {
      const key = cell.className.replace("tfm-col-", "");
      cell.textContent = { name: "Name", size: "Size", date: "Modified" }[key] +
        (state.sort === key || (key === "name" && state.sort === "ext") ? arrow : "");
    }
    this.rowList.setCount(this.visible.length);
    this.status.textContent = L.statusLine(this.visible, this.rows, state.selection ?? [], {
      complete: state.complete, cached: state.cached, error: state.error,
    }) + (state.pattern ? ` · filter ${state.pattern}` : "") + (state.sort !== "name" ? ` · by ${state.sort}` : "");
    this.el.classList.toggle("tfm-active", this.browser.activeSide() === this.side);
    this.renderRows();
  }

  marks() {
    const compare = this.browser.model.get("compare")?.[this.side];
    return compare && compare.cwd === this.state().cwd ? compare.marks ?? {} : {};
  }

  renderRows() {
    const state = this.state();
    this.rendering = { focus: state.focus, selection: new Set(state.selection ?? []), marks: this.marks() };
    this.rowList.render();
  }

  renderRow(index) {
    const row = this.visible[index];
    const { focus, selection, marks } = this.rendering;
    const node = h("div", "tfm-row");
    node.draggable = true;
    if (row.isDir) node.classList.add("tfm-dir");
    else if (L.fileKind(row.name)) node.classList.add(`tfm-type-${L.fileKind(row.name)}`);
    if (row.name === focus) node.classList.add("tfm-focus");
    if (selection.has(row.name)) node.classList.add("tfm-selected");
    const mark = marks[row.name];
    if (MARK_TITLES[mark]) {
      node.classList.add(`tfm-cmp-${mark}`);
      node.title = MARK_TITLES[mark];
    }
    node.append(h("span", "tfm-col-name", row.isDir ? `${row.name}/` : row.name),
      h("span", "tfm-col-size", row.isDir ? "" : L.formatSize(row.size)),
      h("span", "tfm-col-date", L.formatDate(row.mtime)));
    return node;
  }

  focusName(name) {
    if (name === null || name === undefined) return;
    this.rowList.show(L.focusIndex(this.visible, name));
    this.update({ focus: name });
  }

  move(delta) {
    this.focusName(L.moveFocus(this.visible, this.state().focus, delta));
  }

  pageSize() {
    return this.rowList.pageSize();
  }

  toggleSelection() {
    const state = this.state();
    if (state.focus === null || state.focus === undefined) return;
    const selection = new Set(state.selection ?? []);
    if (selection.has(state.focus)) selection.delete(state.focus);
    else selection.add(state.focus);
    const next = L.moveFocus(this.visible, state.focus, 1);
    this.update({ selection: [...selection].sort(), focus: next });
    this.focusName(next);
  }

  selectAll() {
    this.update({ selection: L.toggleAll(this.visible, this.state().selection ?? []) });
  }

  setSort(key) {
    const state = this.state();
    if (state.sort === key) this.update({ descending: !state.descending });
    else this.update({ sort: key, descending: false });
  }

  cycleSort() {
    const next = L.SORTS[(L.SORTS.indexOf(this.state().sort) + 1) % L.SORTS.length];
    this.update({ sort: next });
  }

  click(event) {
    this.browser.activate(this.side);
    const index = this.rowList.indexOf(event.target);
    const row = index === null ? undefined : this.visible[index];
    if (!row) return;
    if (event.ctrlKey || event.metaKey) {
      const selection = new Set(this.state().selection ?? []);
      if (selection.has(row.name)) selection.delete(row.name);
      else selection.add(row.name);
      this.update({ selection: [...selection].sort(), focus: row.name });
    } else {
      this.update({ focus: row.name });
    }
  }

  // Drag rows onto the other pane: copy (Shift: move), with the usual confirmation.
  dragStart(event) {
    const index = this.rowList.indexOf(event.target);
    const row = index === null ? undefined : this.visible[index];
    if (!row) return event.preventDefault();
    if (!(this.state().selection ?? []).includes(row.name)) this.update({ focus: row.name });
    this.browser.activate(this.side);
    event.dataTransfer.setData("application/x-tfm-pane", this.side);
    event.dataTransfer.effectAllowed = "copyMove";
  }

  dragOver(event) {
    const types = event.dataTransfer.types;
    const fromPane = types.includes("application/x-tfm-pane") && this.browser.activeSide() !== this.side;
    if (fromPane || types.includes("Files")) {
      event.preventDefault();
      event.stopPropagation();  // JupyterLab's own drop (open the file in the notebook's folder) is not wanted
      event.dataTransfer.dropEffect = fromPane && event.shiftKey ? "move" : "copy";
    }
  }

  drop(event) {
    const from = event.dataTransfer.getData("application/x-tfm-pane");
    if (from) {
      if (from === this.side) return;
      event.preventDefault();
      this.browser.send(event.shiftKey ? "move" : "copy", from);
      return;
    }
    if (!event.dataTransfer.types.includes("Files")) return;
    event.preventDefault();
    event.stopPropagation();
    this.browser.activate(this.side);
    droppedFiles(event.dataTransfer).then((items) => this.browser.upload(this.side, items));
  }

  chosenNames() {
    const state = this.state();
    if (state.selection?.length) return state.selection;
    return state.focus === null || state.focus === undefined ? [] : [state.focus];
  }
}

class BrowserView {
  constructor(model, el) {
    this.model = model;
    this.root = h("div", "tfm-browser");
    this.root.tabIndex = 0;
    // Lumino (JupyterLab, Notebook 7) ignores keys from inside this element: arrows stay ours.
    this.root.setAttribute("data-lm-suppress-shortcuts", "true");
    this.panesEl = h("div", "tfm-panes");
    this.panes = Object.fromEntries(PANES.map((side) => [side, new PaneView(this, side)]));
    this.panesEl.append(this.panes.left.el, this.panes.right.el);
    this.inputBar = h("div", "tfm-inputbar");
    this.inputLabel = h("span", "tfm-input-label");
    this.input = h("input", "tfm-input");
    this.inputBar.append(this.inputLabel, this.input);
    this.job = h("div", "tfm-job");
    this.results = new ResultsView(this);
    this.buttons = h("div", "tfm-buttons");
    this.buttons.setAttribute("role", "toolbar");
    this.buttons.setAttribute("aria-label", "file commands");
    for (const { label, command, key, help } of BUTTONS) {
      const button = h("button", "tfm-button", label);
      button.title = `${help} (${key})`;
      button.addEventListener("mousedown", (event) => event.preventDefault());  // the focus stays on the panes
      button.onclick = () => this.run(command);
      this.buttons.append(button);
    }
    this.fileInput = h("input", "tfm-upload-input");
    this.fileInput.type = "file";
    this.fileInput.multiple = true;
    this.fileInput.hidden = true;
    this.fileInput.addEventListener("change", () => {
      const items = [...this.fileInput.files].map((file) => ({ file, name: file.name }));
      this.fileInput.value = "";
      this.upload(this.activeSide(), items);
    });
    this.uploads = new Map();
    this.downloads = new Map();
    this.uploadCount = 0;
    this.menu = h("div", "tfm-menu");
    this.menu.setAttribute("role", "menu");
    this.footer = h("div", "tfm-footer");
    this.message = h("div", "tfm-message");
    this.meter = h("div", "tfm-meter");
    this.legend = h("div", "tfm-legend");
    this.legend.append(...Object.entries(MARK_TITLES).map(([mark, title]) => h("span", `tfm-cmp-${mark}`, title)));
    this.footer.append(this.message, this.legend, this.meter);
    this.preview = h("div", "tfm-preview");
    this.help = h("div", "tfm-help");
    this.dialog = h("div", "tfm-dialog-backdrop");
    this.root.append(this.panesEl, this.buttons, this.inputBar, this.job, this.footer, this.results.el, this.preview,
      this.help, this.dialog, this.menu, this.fileInput);
    this.root.addEventListener("mousedown", (event) => {
      if (!this.menu.contains(event.target)) this.closeMenu();
    });
    el.append(this.root);
    this.buildHelp();
    this.root.addEventListener("keydown", (event) => this.keydown(event));
    this.input.addEventListener("keydown", (event) => this.inputKey(event));
    this.input.addEventListener("input", () => this.inputChanged());
    this.listeners = [
      ["msg:custom", (message, buffers) => this.custom(message, buffers)],
      ["change:left_state", () => this.panes.left.refresh()],
      ["change:right_state", () => this.panes.right.refresh()],
      ["change:left_selection", () => this.panes.left.refresh()],
      ["change:right_selection", () => this.panes.right.refresh()],
      ["change:active", () => this.activeChanged()],
      ["change:dialog", () => this.renderDialog()],
      ["change:job", () => this.renderJob()],
      ["change:message", () => this.renderMessage()],
      ["change:preview", () => this.renderPreview()],
      ["change:meter", () => this.renderMeter()],
      ["change:compare", () => this.compareChanged()],
    ];
    for (const [name, handler] of this.listeners) model.on(name, handler);
    PANES.forEach((side) => this.panes[side].refresh());
    this.renderDialog();
    this.renderJob();
    this.renderMessage();
    this.renderPreview();
    this.renderMeter();
    this.compareChanged();
    this.send("ready", null);
  }

  compareChanged() {
    const compare = this.model.get("compare") ?? {};
    this.legend.classList.toggle("tfm-open", Boolean(compare.left || compare.right));
    PANES.forEach((side) => this.panes[side].refresh());
  }

  destroy() {
    for (const [name, handler] of this.listeners) this.model.off(name, handler);
  }

  send(action, side, extra = {}) {
    // Pane state went ahead on the same channel (PaneView.update): the kernel has it already.
    this.model.send({ action, pane: side, ...extra });
  }

  activePane() {
    return this.panes[this.activeSide()] ?? this.panes.left;
  }

  activeSide() {
    // Until the kernel has mirrored every switch this view asked for, the view's own word counts.
    return this.pendingSwitches ? this.switchedTo : this.model.get("active");
  }

  activate(side) {
    if (this.activeSide() !== side) {
      this.pendingSwitches = (this.pendingSwitches ?? 0) + 1;
      this.switchedTo = side;
      this.send("activate", side);
      PANES.forEach((name) => this.panes[name].refresh());
    }
    this.root.focus();
  }

  activeChanged() {
    if (this.pendingSwitches) this.pendingSwitches--;
    PANES.forEach((side) => this.panes[side].refresh());
  }

  custom(message, buffers) {
    if (message.type === "upload_go") this.uploadGo(message);
    else if (message.type === "upload_ack") this.nextChunk(message.id);
    else if (message.type === "download_chunk") this.downloadChunk(message, buffers);
    else if (message.type === "rows") this.panes[message.pane]?.receive(message);
    else if (message.type === "focus") this.panes[message.pane]?.focusName(message.name);
    else if (message.type === "results") this.results.receive(message);
  }

  // -- the laptop: uploads in chunks, one in flight (the kernel acknowledges each); downloads as blobs --

  upload(side, items) {
    if (!items.length) return;
    const id = `${Date.now()}-${++this.uploadCount}`;
    this.uploads.set(id, { items, queue: [] });
    this.send("upload_start", side, { id, files: items.map(({ file, name }) => ({ name, size: file.size })) });
  }

  uploadGo({ id, skip = [], cancel = false }) {
    const upload = this.uploads.get(id);
    if (!upload) return;
    if (cancel) return this.uploads.delete(id);
    upload.items.forEach(({ file }, index) => {
      if (skip.includes(index)) return;
      for (let offset = 0; offset < Math.max(file.size, 1); offset += CHUNK) upload.queue.push([index, offset]);
    });
    this.nextChunk(id);
  }

  async nextChunk(id) {
    const upload = this.uploads.get(id);
    const next = upload?.queue.shift();
    if (!next) return this.uploads.delete(id);
    const [index, offset] = next;
    const { file } = upload.items[index];
    const buffer = await file.slice(offset, offset + CHUNK).arrayBuffer();
    this.model.send({ action: "upload_chunk", id, index, offset, last: offset + CHUNK >= file.size }, undefined,
      [buffer]);
  }

  downloadChunk({ id, name, last = false, cancel = false }, buffers = []) {
    if (cancel) return this.downloads.delete(id);
    const parts = this.downloads.get(id) ?? [];
    if (buffers[0]) parts.push(new Blob([buffers[0]]));
    this.downloads.set(id, parts);
    if (!last) return;
    this.downloads.delete(id);
    const url = URL.createObjectURL(new Blob(parts, { type: "application/octet-stream" }));
    const link = h("a", "tfm-download");
    link.href = url;
    link.download = name;  // the web browser makes it a safe file name
    this.root.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  /** A command from the mouse (button bar, menu), on the active pane, as its key would run it. */
  run(command) {
    this.closeMenu();
    COMMANDS[command](this, this.activePane());
    this.root.focus();
  }

  /** The widget's own right-click menu (JupyterLab's notebook menu must not open over the panes). */
  openMenu(event, pane) {
    event.preventDefault();
    event.stopPropagation();
    pane.click(event);
    this.menu.replaceChildren(...BUTTONS.map(({ label, command, key }) => {
      const item = h("button", "tfm-menu-item", label);
      item.setAttribute("role", "menuitem");
      item.setAttribute("aria-label", label);
      item.append(h("span", "tfm-menu-key", key));
      item.onclick = () => this.run(command);
      return item;
    }));
    const box = this.root.getBoundingClientRect();
    this.menu.style.left = `${event.clientX - box.left}px`;
    this.menu.style.top = `${event.clientY - box.top}px`;
    this.menu.classList.add("tfm-open");
  }

  closeMenu() {
    this.menu.classList.remove("tfm-open");
  }

  keydown(event) {
    if (event.target === this.input || event.target.classList.contains("tfm-path")) return;
    if (this.model.get("dialog")?.id) return this.dialogKey(event);
    if (this.results.open) return this.results.key(event);
    const command = commandFor(event);
    if (!command) return;
    event.preventDefault();
    event.stopPropagation();
    COMMANDS[command](this, this.activePane());
  }

  escape(pane) {
    if (this.menu.classList.contains("tfm-open")) return this.closeMenu();
    if (this.help.classList.contains("tfm-open")) return this.help.classList.remove("tfm-open");
    if (this.preview.classList.contains("tfm-open")) return this.preview.classList.remove("tfm-open");
    if (pane.state().selection?.length) return pane.update({ selection: [] });
    if (pane.state().pattern) return pane.update({ pattern: "" });
    return undefined;
  }

  openInput(kind, value) {
    this.inputKind = kind;
    this.searchStart = this.activePane().state().focus;
    this.inputLabel.textContent = {
      filter: "Filter (glob):", search: "Search:", findname: "Find files below, by name (glob):",
      findtext: "Find files below, containing text:",
    }[kind];
    this.input.value = value;
    this.inputBar.classList.add("tfm-open");
    this.input.focus();
  }

  closeInput() {
    this.inputBar.classList.remove("tfm-open");
    this.inputKind = null;
    this.root.focus();
  }

  inputChanged() {
    const pane = this.activePane();
    if (this.inputKind === "search") {
      const hit = L.search(pane.visible, this.input.value);
      if (hit !== null) pane.focusName(hit);
    } else if (this.inputKind === "filter") {
      pane.update({ pattern: this.input.value });
    }
  }

  inputKey(event) {
    event.stopPropagation();
    if (event.key === "Enter") {
      event.preventDefault();
      const kind = this.inputKind;
      if ((kind === "findname" || kind === "findtext") && this.input.value) {
        const side = this.activePane().side;
        this.results.start(side, kind === "findname" ? "name" : "content", this.input.value);
        this.send("search", side, { kind: kind === "findname" ? "name" : "content", pattern: this.input.value });
      }
      this.closeInput();
    } else if (event.key === "Escape") {
      event.preventDefault();
      const pane = this.activePane();
      if (this.inputKind === "filter") pane.update({ pattern: "" });
      else pane.focusName(this.searchStart);
      this.closeInput();
    }
  }

  copyCode(pane) {
    const code = L.pathCode(pane.state().cwd, pane.chosenNames());
    this.lastCode = code;
    this.root.dataset.copied = code;
    const done = () => this.flash(`copied ${pane.chosenNames().length} Path(...) to the clipboard`);
    if (navigator.clipboard?.writeText) navigator.clipboard.writeText(code).then(done, () => this.flash(code));
    else this.flash(code);
  }

  flash(text) {
    this.message.textContent = text;
    this.message.className = "tfm-message tfm-info";
  }

  buildHelp() {
    const list = h("dl", "tfm-help-list");  // two columns of key and meaning: the whole table fits the widget
    for (const [keys, what] of helpRows()) list.append(h("dt", "tfm-key", keys), h("dd", "", what));
    this.help.append(h("div", "tfm-help-title", "Keys (press ? or Esc to close; the buttons below do the same)"),
      list);
  }

  // -- kernel-driven parts --------------------------------------------------------------------

  renderDialog() {
    const dialog = this.model.get("dialog") || {};
    this.dialog.replaceChildren();
    this.dialog.classList.toggle("tfm-open", Boolean(dialog.id));
    if (!dialog.id) return;
    const box = h("div", "tfm-dialog");
    box.append(h("div", "tfm-dialog-title", dialog.title ?? ""));
    if (dialog.message) box.append(h("div", "tfm-dialog-message", dialog.message));
    let input = null;
    if (dialog.kind === "prompt") {
      input = h("input", "tfm-dialog-input");
      input.value = dialog.value ?? "";
      input.addEventListener("keydown", (event) => {
        event.stopPropagation();
        if (event.key === "Enter") this.answer(dialog, dialog.buttons[0], input.value);
        if (event.key === "Escape") this.answer(dialog, "Cancel", null);
      });
      box.append(input);
    }
    let applyAll = null;
    if (dialog.allow_all || dialog.checkbox) {
      const label = h("label", "tfm-apply-all");
      applyAll = h("input");
      applyAll.type = "checkbox";
      applyAll.checked = Boolean(dialog.checked);
      label.append(applyAll, document.createTextNode(dialog.checkbox ?? " apply to all remaining conflicts"));
      box.append(label);
    }
    const buttons = h("div", "tfm-dialog-buttons");
    for (const name of dialog.buttons ?? ["OK"]) {
      const button = h("button", "tfm-button", name);
      button.onclick = () => this.answer(dialog, name, input?.value ?? null, applyAll?.checked ?? false);
      buttons.append(button);
    }
    box.append(buttons);
    this.dialog.append(box);
    // Enter presses the focused button: the safe choice (Skip, Cancel) where the kernel names one.
    const safe = [...buttons.children].find((button) => button.textContent === dialog.default);
    setTimeout(() => (input ?? safe ?? buttons.firstChild)?.focus(), 0);
  }

  dialogKey(event) {
    const dialog = this.model.get("dialog");
    event.stopPropagation();
    if (event.key === "Escape") {
      event.preventDefault();
      this.answer(dialog, "Cancel", null);
    }
  }

  answer(dialog, button, value, applyAll = false) {
    this.model.send({ action: "answer", id: dialog.id, button, value, apply_all: applyAll });
    this.dialog.classList.remove("tfm-open");
    this.root.focus();
  }

  renderJob() {
    const job = this.model.get("job") || {};
    this.root.dataset.busy = job.id ? "true" : "false";
    this.job.replaceChildren();
    this.job.classList.toggle("tfm-open", Boolean(job.title));
    if (!job.title) return;
    const fraction = job.bytes_total ? job.bytes_done / job.bytes_total : job.files_total ? job.files_done / job.files_total : 0;
    const bar = h("div", "tfm-progress");
    const fill = h("div", "tfm-progress-fill");
    fill.style.width = `${Math.round(Math.min(1, fraction) * 100)}%`;
    bar.append(fill);
    const text = `${job.title} — ${job.files_done ?? 0}/${job.files_total ?? 0} files, ` +
      `${L.formatSize(job.bytes_done ?? 0)} of ${L.formatSize(job.bytes_total ?? 0)}` +
      (job.rate ? ` at ${L.formatSize(Math.round(job.rate))}/s` : "");
    this.job.append(bar, h("span", "tfm-job-text", text));
    if (job.running) {
      const cancel = h("button", "tfm-button tfm-cancel", "Cancel");
      cancel.onclick = () => this.model.send({ action: "cancel", id: job.id });
      this.job.append(cancel);
    }
  }

  renderMeter() {
    this.meter.textContent = (this.model.get("meter") || {}).text ?? "";
  }

  renderMessage() {
    const message = this.model.get("message") || {};
    this.message.textContent = message.text ?? "";
    this.message.className = `tfm-message tfm-${message.level ?? "info"}`;
  }

  renderPreview() {
    const preview = this.model.get("preview") || {};
    this.preview.replaceChildren();
    this.preview.classList.toggle("tfm-open", Boolean(preview.name));
    if (!preview.name) return;
    this.preview.append(h("div", "tfm-preview-title", preview.name));
    if (preview.kind === "text") {
      const text = h("pre", "tfm-preview-text tfm-numbered");  // one span a line: CSS numbers them
      const lines = (preview.text ?? "").split("\n");
      if (lines.length > 1 && lines.at(-1) === "") lines.pop();
      text.append(...lines.map((line) => h("span", "tfm-line", line)));
      this.preview.append(text);
    }
    if (preview.kind === "table") this.preview.append(previewTable(preview.table ?? {}));
    if (preview.kind === "usage") this.preview.append(usageView(preview.usage ?? {}));
    if (preview.kind === "image" && /^data:image\/(png|jpeg|gif|webp|bmp);base64,/.test(preview.image ?? "")) {
      const img = h("img", "tfm-preview-image");
      img.src = preview.image;
      img.alt = preview.name;
      this.preview.append(img);
    }
    const meta = h("dl", "tfm-preview-meta");
    for (const [key, value] of Object.entries(preview.meta ?? {})) meta.append(h("dt", "", key), h("dd", "", String(value)));
    this.preview.append(meta);
  }
}

class ResultsView {
  // The results of F / G: streamed in, capped at 10,000, Enter reveals one in its folder.
  constructor(browser) {
    this.browser = browser;
    this.el = h("div", "tfm-results");
    this.title = h("div", "tfm-results-title");
    this.resultList = new VirtualList("tfm-results-list", (index) => this.renderItem(index));
    this.el.append(this.title, this.resultList.el);
    this.resultList.el.addEventListener("dblclick", () => this.reveal());
    this.open = false;
    this.items = [];
  }

  start(side, kind, pattern) {
    Object.assign(this, { side, kind, pattern, items: [], focus: 0, done: false, more: false, search: null });
    this.open = true;
    this.el.classList.add("tfm-open");
    this.render();
  }

  receive(message) {
    if (!this.open || message.pane !== this.side) return;
    if (this.search === null) this.search = message.search;
    if (message.search !== this.search) return;
    this.items.push(...message.items);
    this.done = message.done;
    this.more = message.more;
    this.render();
  }

  close() {
    if (!this.done) this.browser.model.send({ action: "cancel", pane: this.side });
    this.open = false;
    this.el.classList.remove("tfm-open");
    this.browser.root.focus();
  }

  reveal() {
    const item = this.items[this.focus];
    if (item === undefined) return;
    this.browser.send("reveal", this.side, { path: item });
    this.close();
  }

  key(event) {
    const page = this.resultList.pageSize();
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, Home: -Infinity, End: Infinity };
    if (event.key in moves) {
      this.focus = Math.max(0, Math.min(this.items.length - 1, this.focus + moves[event.key]));
      this.resultList.show(this.focus);
      this.render();
    } else if (event.key === "Enter") this.reveal();
    else if (event.key === "Escape") this.close();
    else return;
    event.preventDefault();
    event.stopPropagation();
  }

  render() {
    const what = this.kind === "name" ? `named ${this.pattern}` : `containing "${this.pattern}"`;
    const state = this.done ? "" : " (searching… Esc stops)";
    this.title.textContent = `${this.items.length.toLocaleString("en-US")} files ${what}${state}` +
      (this.more ? ` — ${RESULT_CAP_NOTE}` : "");
    this.resultList.setCount(this.items.length);
    this.resultList.render();
  }

  renderItem(index) {
    const node = h("div", "tfm-row tfm-result", this.items[index]);
    if (index === this.focus) node.classList.add("tfm-focus");
    node.onclick = () => { this.focus = index; this.render(); };
    return node;
  }
}

const kernel = (action) => (view, pane) => view.send(action, pane.side);

/** What each command of the key table (keys.js) does. */
export const COMMANDS = {
  switchPane: (view, pane) => view.activate(pane.side === "left" ? "right" : "left"),
  down: (view, pane) => pane.move(1),
  up: (view, pane) => pane.move(-1),
  pageDown: (view, pane) => pane.move(pane.pageSize()),
  pageUp: (view, pane) => pane.move(-pane.pageSize()),
  top: (view, pane) => pane.move(-Infinity),
  bottom: (view, pane) => pane.move(Infinity),
  open: kernel("open"),
  parent: kernel("parent"),
  toggleSelection: (view, pane) => pane.toggleSelection(),
  selectAll: (view, pane) => pane.selectAll(),
  copy: kernel("copy"),
  move: kernel("move"),
  delete: kernel("delete"),
  rename: kernel("rename"),
  mkdir: kernel("mkdir"),
  newfile: kernel("newfile"),
  filter: (view, pane) => view.openInput("filter", pane.state().pattern ?? ""),
  search: (view) => view.openInput("search", ""),
  cycleSort: (view, pane) => pane.cycleSort(),
  reverse: (view, pane) => pane.update({ descending: !pane.state().descending }),
  toggleHidden: (view, pane) => pane.update({ show_hidden: !pane.state().show_hidden }),
  copyCode: (view, pane) => view.copyCode(pane),
  upload: (view) => view.fileInput.click(),
  download: kernel("download"),
  usage: kernel("usage"),
  findName: (view) => view.openInput("findname", ""),
  findText: (view) => view.openInput("findtext", ""),
  compare: kernel("compare"),
  synchronize: kernel("synchronize"),
  run: kernel("run"),
  refresh: kernel("refresh"),
  escape: (view, pane) => view.escape(pane),
  help: (view) => view.help.classList.toggle("tfm-open"),
};

export default {
  render({ model, el }) {
    const view = new BrowserView(model, el);
    return () => view.destroy();
  },
};
