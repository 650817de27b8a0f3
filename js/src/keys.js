// The browser's keys: one table drives both the key handling and the help overlay (pure, no DOM).
//
// Each entry names the keys as the help shows them (`label`), what they do (`help`) and, for each
// `KeyboardEvent.key` it answers, the command the widget runs.  Commands are implemented by the
// widget (COMMANDS in widget.js); the unit tests check that both sides name the same commands.

export const KEY_TABLE = [
  { label: "Tab", help: "switch pane", bind: { Tab: "switchPane" } },
  { label: "↑ ↓ PgUp PgDn Home End", help: "move",
    bind: { ArrowDown: "down", ArrowUp: "up", PageDown: "pageDown", PageUp: "pageUp", Home: "top", End: "bottom" } },
  { label: "Enter, F3", help: "open folder / view file (text, CSV, JSON, parquet, images; metadata)",
    bind: { Enter: "open", F3: "open" } },
  { label: "Backspace", help: "parent folder (from a bucket: the bucket list)", bind: { Backspace: "parent" } },
  { label: "Space", help: "select and move down", bind: { " ": "toggleSelection" } },
  { label: "a", help: "select all / none", bind: { a: "selectAll" } },
  { label: "c / m, F5 / F6", help: "copy / move the selection (or the focused item) to the other pane",
    bind: { c: "copy", m: "move", F5: "copy", F6: "move" } },
  { label: "k, Delete, F8", help: "delete (folders with everything in them)",
    bind: { k: "delete", Delete: "delete", F8: "delete" } },
  { label: "r", help: "rename", bind: { r: "rename" } },
  { label: "n / e, F7", help: "new folder / new empty file", bind: { n: "mkdir", e: "newfile", F7: "mkdir" } },
  { label: "/", help: "filter by glob", bind: { "/": "filter" } },
  { label: "f", help: "search as you type", bind: { f: "search" } },
  { label: "s / o", help: "sort by name, ext, size, date / reverse", bind: { s: "cycleSort", o: "reverse" } },
  { label: ".", help: "show hidden files", bind: { ".": "toggleHidden" } },
  { label: "y", help: "copy Path(...) code of the selection", bind: { y: "copyCode" } },
  { label: "u / d", help: "upload from this computer (or drop files and folders on a pane) / download to it (a folder or a selection as .zip)",
    bind: { u: "upload", d: "download" } },
  { label: "F / G", help: "find files below by name / by content", bind: { F: "findName", G: "findText" } },
  { label: "U", help: "usage: what uses the storage below the focused folder (a treemap, with the monthly cost)",
    bind: { U: "usage" } },
  { label: "=", help: "compare the panes (recursive): marks what is only here, newer or different",
    bind: { "=": "compare" } },
  { label: "+", help: "synchronize the panes: shows the plan, copies (and deletes) as a job",
    bind: { "+": "synchronize" } },
  { label: "!", help: "run a shell command or a configured program on the selection ($TFM_THIS_SELECTED …)",
    bind: { "!": "run" } },
  { label: "Ctrl-R", help: "refresh (forgets the cached listing)", bind: {}, ctrl: { r: "refresh" } },
  { label: "Esc", help: "close / clear", bind: { Escape: "escape" } },
  { label: "?, F1", help: "this help", bind: { "?": "help", F1: "help" } },
];

// The mouse's way to the same commands: the button bar and the right-click menu (one table for both;
// `key` is what the button's tooltip names).
export const BUTTONS = [
  { label: "View", command: "open", key: "F3", help: "open the folder, or view the file" },
  { label: "Copy", command: "copy", key: "F5", help: "copy the selection (or the focused item) to the other pane" },
  { label: "Move", command: "move", key: "F6", help: "move the selection (or the focused item) to the other pane" },
  { label: "New folder", command: "mkdir", key: "F7", help: "make a folder here" },
  { label: "Delete", command: "delete", key: "F8", help: "delete the selection (folders with everything in them)" },
  { label: "Rename", command: "rename", key: "r", help: "rename the focused item" },
  { label: "Upload", command: "upload", key: "u, or drop files", help: "files from this computer into this pane" },
  { label: "Download", command: "download", key: "d", help: "the focused file to this computer (folders, selections: .zip)" },
  { label: "Refresh", command: "refresh", key: "Ctrl-R", help: "list the folder again" },
  { label: "Usage", command: "usage", key: "U", help: "what uses the storage below the focused folder" },
  { label: "Up", command: "parent", key: "Backspace", help: "the parent folder" },
  { label: "Help", command: "help", key: "F1", help: "every key" },
];

/** [label, help] rows of the help overlay, in the table's order. */
export function helpRows(table = KEY_TABLE) {
  return table.map(({ label, help }) => [label, help]);
}

/** A Markdown table of text cells (a "|" in a cell escaped). */
function markdown(headers, rows) {
  const line = (cells) => `| ${cells.map((text) => text.replaceAll("|", "\\|")).join(" | ")} |`;
  return [line(headers), `|${"---|".repeat(headers.length)}`, ...rows.map(line)].join("\n");
}

/** The table as the README shows it (Markdown), so the README and the widget cannot disagree. */
export function markdownTable(table = KEY_TABLE) {
  return markdown(["key", "does"], table.map(({ label, help }) => [label, help]));
}

/** The button bar (and right-click menu) as the README shows it: each button, its key, what it does. */
export function buttonsTable(buttons = BUTTONS) {
  return markdown(["button", "key", "does"], buttons.map(({ label, key, help }) => [label, key, help]));
}

/** Every command the table names (each once). */
export function commandNames(table = KEY_TABLE) {
  return [...new Set(table.flatMap((entry) => [...Object.values(entry.bind), ...Object.values(entry.ctrl ?? {})]))];
}

/** The command a key event asks for, or null.  With Ctrl/Cmd only the `ctrl` bindings count (Ctrl-R);
 * with Alt nothing does; Shift-Tab switches panes like Tab. */
export function commandFor({ key, ctrlKey = false, metaKey = false, altKey = false }, table = KEY_TABLE) {
  if (altKey) return null;
  for (const entry of table) {
    if (ctrlKey || metaKey) {
      const command = entry.ctrl?.[key.toLowerCase()];
      if (command) return command;
    } else if (Object.hasOwn(entry.bind, key)) {
      return entry.bind[key];
    }
  }
  return null;
}
