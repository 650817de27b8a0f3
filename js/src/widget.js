// The two-pane browser view (an anywidget front-end module).
//
// State that both sides need lives in traitlets (left_state/right_state, active, dialog, job,
// message, preview).  Rows arrive in pages as custom messages and stay here: sorting, filtering
// and the virtual list work on them locally, so a 100,000-entry folder scrolls without asking the
// kernel.  Names are untrusted and always rendered with textContent.
import * as L from "./logic.js";

const ROW_HEIGHT = 22;
const PANES = ["left", "right"];
const HELP = [
  ["Tab", "switch pane"], ["↑ ↓ PgUp PgDn Home End", "move"], ["Enter", "open folder / preview file"],
  ["Backspace", "parent folder (from a bucket: the bucket list)"], ["Space", "select and move down"],
  ["a", "select all / none"], ["c / m", "copy / move selection to the other pane"], ["k", "delete"],
  ["r", "rename"], ["n / e", "new folder / new empty file"], ["/", "filter by glob"], ["f", "search as you type"],
  ["s / o", "sort by name, ext, size, date / reverse"], [".", "show hidden files"],
  ["y", "copy Path(...) code of the selection"], ["F / G", "find files below by name / by content"],
  ["=", "compare the panes (recursive): marks what is only here, newer or different"],
  ["+", "synchronize the panes: shows the plan, copies (and deletes) as a job"],
  ["!", "run a shell command or a configured program on the selection ($TFM_THIS_SELECTED …)"],
  ["F5, Ctrl-R", "refresh"], ["Esc", "close / clear"], ["?", "this help"],
];
const MARK_TITLES = { only: "only in this pane", newer: "newer in this pane", differs: "differs from the other pane" };
const RESULT_CAP_NOTE = "more… (only the first 10,000 are listed: narrow the search)";

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

function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
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
    this.list = h("div", "tfm-list");
    this.spacer = h("div", "tfm-spacer");
    this.rowsEl = h("div", "tfm-rows");
    this.spacer.append(this.rowsEl);
    this.list.append(this.spacer);
    this.status = h("div", "tfm-status");
    this.el.append(bar, this.header, this.list, this.status);
    this.list.addEventListener("scroll", () => this.renderRows());
    this.path.addEventListener("keydown", (event) => {
      event.stopPropagation();
      if (event.key === "Enter") {
        browser.send("cd", side, { path: this.path.value });
        browser.root.focus();
      } else if (event.key === "Escape") {
        this.path.value = this.state().cwd;
        browser.root.focus();
      }
    });
    this.list.addEventListener("mousedown", (event) => this.click(event));
    this.list.addEventListener("dblclick", () => this.browser.send("open", this.side));
  }

  state() {
    const model = this.browser.model;
    const state = model.get(`${this.side}_state`) || {};
    const chosen = model.get(`${this.side}_selection`) || {};
    return { ...state, selection: chosen.listing === state.listing ? chosen.names ?? [] : [] };
  }

  update(changes) {
    const model = this.browser.model;
    const { selection, ...rest } = changes;
    const state = model.get(`${this.side}_state`) || {};
    // The selection has a trait of its own: a cursor move must not resend 100,000 selected names.
    if (Object.keys(rest).length) model.set(`${this.side}_state`, { ...state, ...rest });
    if (selection !== undefined) model.set(`${this.side}_selection`, { listing: state.listing, names: selection });
    model.save_changes();
    // Trait syncs are held back while one is in flight; this message is not, so Python code
    // (b.selected, b.left.focus) sees what the screen shows as soon as the key is handled.
    model.send({ action: "state", pane: this.side, state: { ...changes, listing: state.listing } });
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
    this.spacer.style.height = `${this.visible.length * ROW_HEIGHT}px`;
    this.status.textContent = L.statusLine(this.visible, this.rows, state.selection ?? [], {
      complete: state.complete, cached: state.cached, error: state.error,
    }) + (state.pattern ? ` · filter ${state.pattern}` : "") + (state.sort !== "name" ? ` · by ${state.sort}` : "");
    this.el.classList.toggle("tfm-active", this.browser.model.get("active") === this.side);
    this.renderRows();
  }

  marks() {
    const compare = this.browser.model.get("compare")?.[this.side];
    return compare && compare.cwd === this.state().cwd ? compare.marks ?? {} : {};
  }

  renderRows() {
    const state = this.state();
    const selection = new Set(state.selection ?? []);
    const marks = this.marks();
    const { start, end } = L.windowFor(this.list.scrollTop, this.list.clientHeight || 400, ROW_HEIGHT,
      this.visible.length);
    this.rowsEl.style.transform = `translateY(${start * ROW_HEIGHT}px)`;
    const nodes = [];
    for (let i = start; i < end; i++) {
      const row = this.visible[i];
      const node = h("div", "tfm-row");
      node.dataset.index = String(i);
      if (row.isDir) node.classList.add("tfm-dir");
      if (row.name === state.focus) node.classList.add("tfm-focus");
      if (selection.has(row.name)) node.classList.add("tfm-selected");
      const mark = marks[row.name];
      if (MARK_TITLES[mark]) {
        node.classList.add(`tfm-cmp-${mark}`);
        node.title = MARK_TITLES[mark];
      }
      node.append(h("span", "tfm-col-name", row.isDir ? `${row.name}/` : row.name),
        h("span", "tfm-col-size", row.isDir ? "" : L.formatSize(row.size)),
        h("span", "tfm-col-date", L.formatDate(row.mtime)));
      nodes.push(node);
    }
    this.rowsEl.replaceChildren(...nodes);
  }

  focusName(name) {
    if (name === null || name === undefined) return;
    const index = L.focusIndex(this.visible, name);
    this.list.scrollTop = L.scrollToShow(this.list.scrollTop, this.list.clientHeight || 400, ROW_HEIGHT, index);
    this.update({ focus: name });
  }

  move(delta) {
    this.focusName(L.moveFocus(this.visible, this.state().focus, delta));
  }

  pageSize() {
    return Math.max(1, Math.floor((this.list.clientHeight || 400) / ROW_HEIGHT) - 1);
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
    const rowEl = event.target.closest(".tfm-row");
    this.browser.activate(this.side);
    if (!rowEl) return;
    const row = this.visible[Number(rowEl.dataset.index)];
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
    this.footer = h("div", "tfm-footer");
    this.message = h("div", "tfm-message");
    this.meter = h("div", "tfm-meter");
    this.footer.append(this.message, this.meter);
    this.preview = h("div", "tfm-preview");
    this.help = h("div", "tfm-help");
    this.dialog = h("div", "tfm-dialog-backdrop");
    this.root.append(this.panesEl, this.inputBar, this.job, this.footer, this.results.el, this.preview, this.help,
      this.dialog);
    el.append(this.root);
    this.buildHelp();
    this.root.addEventListener("keydown", (event) => this.keydown(event));
    this.input.addEventListener("keydown", (event) => this.inputKey(event));
    this.input.addEventListener("input", () => this.inputChanged());
    this.listeners = [
      ["msg:custom", (message) => this.custom(message)],
      ["change:left_state", () => this.panes.left.refresh()],
      ["change:right_state", () => this.panes.right.refresh()],
      ["change:left_selection", () => this.panes.left.refresh()],
      ["change:right_selection", () => this.panes.right.refresh()],
      ["change:active", () => PANES.forEach((side) => this.panes[side].refresh())],
      ["change:dialog", () => this.renderDialog()],
      ["change:job", () => this.renderJob()],
      ["change:message", () => this.renderMessage()],
      ["change:preview", () => this.renderPreview()],
      ["change:meter", () => this.renderMeter()],
      ["change:compare", () => PANES.forEach((side) => this.panes[side].refresh())],
    ];
    for (const [name, handler] of this.listeners) model.on(name, handler);
    PANES.forEach((side) => this.panes[side].refresh());
    this.renderDialog();
    this.renderJob();
    this.renderMessage();
    this.renderPreview();
    this.renderMeter();
    this.send("ready", null);
  }

  destroy() {
    for (const [name, handler] of this.listeners) this.model.off(name, handler);
  }

  send(action, side, extra = {}) {
    // ipywidgets holds back state updates while one is in flight, but not custom messages: an
    // action carries the pane state it was pressed in, so it can never act on an older focus.
    const state = side ? this.panes[side].state() : undefined;
    this.model.send({ action, pane: side, state, ...extra });
  }

  activePane() {
    return this.panes[this.model.get("active")] ?? this.panes.left;
  }

  activate(side) {
    if (this.model.get("active") !== side) {
      this.model.set("active", side);
      this.model.save_changes();
      this.model.send({ action: "activate", pane: side });
    }
    this.root.focus();
  }

  custom(message) {
    if (message.type === "rows") this.panes[message.pane]?.receive(message);
    else if (message.type === "focus") this.panes[message.pane]?.focusName(message.name);
    else if (message.type === "results") this.results.receive(message);
  }

  keydown(event) {
    if (event.target === this.input || event.target.classList.contains("tfm-path")) return;
    if (this.model.get("dialog")?.id) return this.dialogKey(event);
    if (this.results.open) return this.results.key(event);
    const pane = this.activePane();
    const side = pane.side;
    const key = event.key;
    const handled = {
      Tab: () => this.activate(side === "left" ? "right" : "left"),
      ArrowDown: () => pane.move(1),
      ArrowUp: () => pane.move(-1),
      PageDown: () => pane.move(pane.pageSize()),
      PageUp: () => pane.move(-pane.pageSize()),
      Home: () => pane.move(-Infinity),
      End: () => pane.move(Infinity),
      Enter: () => this.send("open", side),
      Backspace: () => this.send("parent", side),
      " ": () => pane.toggleSelection(),
      a: () => pane.selectAll(),
      c: () => this.send("copy", side),
      m: () => this.send("move", side),
      k: () => this.send("delete", side),
      Delete: () => this.send("delete", side),
      r: () => this.send("rename", side),
      n: () => this.send("mkdir", side),
      e: () => this.send("newfile", side),
      "/": () => this.openInput("filter", pane.state().pattern ?? ""),
      f: () => this.openInput("search", ""),
      F: () => this.openInput("findname", ""),
      G: () => this.openInput("findtext", ""),
      F5: () => this.send("refresh", side),
      s: () => pane.cycleSort(),
      o: () => pane.update({ descending: !pane.state().descending }),
      ".": () => pane.update({ show_hidden: !pane.state().show_hidden }),
      y: () => this.copyCode(pane),
      "=": () => this.send("compare", side),
      "+": () => this.send("synchronize", side),
      "!": () => this.send("run", side),
      "?": () => this.help.classList.toggle("tfm-open"),
      Escape: () => this.escape(pane),
    };
    let action = handled[key];
    if ((event.ctrlKey || event.metaKey) && key.toLowerCase() === "r") action = () => this.send("refresh", side);
    else if (event.ctrlKey || event.metaKey || event.altKey) action = undefined;
    if (key === "Tab" && event.shiftKey) action = handled.Tab;
    if (!action) return;
    event.preventDefault();
    event.stopPropagation();
    action();
  }

  escape(pane) {
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
    const table = h("table");
    for (const [keys, what] of HELP) {
      const tr = h("tr");
      tr.append(h("td", "tfm-key", keys), h("td", "", what));
      table.append(tr);
    }
    this.help.append(h("div", "tfm-help-title", "Keys (press ? or Esc to close)"), table);
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
    setTimeout(() => (input ?? buttons.firstChild)?.focus(), 0);
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
    if (preview.kind === "text") this.preview.append(h("pre", "tfm-preview-text", preview.text ?? ""));
    if (preview.kind === "table") this.preview.append(previewTable(preview.table ?? {}));
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
    this.list = h("div", "tfm-results-list");
    this.spacer = h("div", "tfm-spacer");
    this.rowsEl = h("div", "tfm-rows");
    this.spacer.append(this.rowsEl);
    this.list.append(this.spacer);
    this.el.append(this.title, this.list);
    this.list.addEventListener("scroll", () => this.render());
    this.list.addEventListener("dblclick", () => this.reveal());
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
    const page = Math.max(1, Math.floor((this.list.clientHeight || 300) / ROW_HEIGHT) - 1);
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, Home: -Infinity, End: Infinity };
    if (event.key in moves) {
      this.focus = Math.max(0, Math.min(this.items.length - 1, this.focus + moves[event.key]));
      this.list.scrollTop = L.scrollToShow(this.list.scrollTop, this.list.clientHeight || 300, ROW_HEIGHT, this.focus);
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
    this.spacer.style.height = `${this.items.length * ROW_HEIGHT}px`;
    const { start, end } = L.windowFor(this.list.scrollTop, this.list.clientHeight || 300, ROW_HEIGHT,
      this.items.length);
    this.rowsEl.style.transform = `translateY(${start * ROW_HEIGHT}px)`;
    const nodes = [];
    for (let i = start; i < end; i++) {
      const node = h("div", "tfm-row tfm-result", this.items[i]);
      if (i === this.focus) node.classList.add("tfm-focus");
      node.onclick = () => { this.focus = i; this.render(); };
      nodes.push(node);
    }
    this.rowsEl.replaceChildren(...nodes);
  }
}

export default {
  render({ model, el }) {
    const view = new BrowserView(model, el);
    return () => view.destroy();
  },
};
