// DOM helpers of the browser: element creation (text only, never markup) and the virtual list.
import * as L from "./logic.js";

export const ROW_HEIGHT = 22;

/** An element with a class and text content: names are untrusted and never parsed as HTML. */
export function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A scrolling list that keeps only the rows on screen in the page (100,000 rows scroll smoothly).
 * `renderRow(index)` builds the element of one row; `count` is how many rows there are. */
export class VirtualList {
  constructor(className, renderRow) {
    this.renderRow = renderRow;
    this.count = 0;
    this.el = h("div", className);
    this.spacer = h("div", "tfm-spacer");
    this.rowsEl = h("div", "tfm-rows");
    this.spacer.append(this.rowsEl);
    this.el.append(this.spacer);
    this.el.addEventListener("scroll", () => this.render());
  }

  height() {
    return this.el.clientHeight || 400;
  }

  setCount(count) {
    this.count = count;
    this.spacer.style.height = `${count * ROW_HEIGHT}px`;
  }

  render() {
    const { start, end } = L.windowFor(this.el.scrollTop, this.height(), ROW_HEIGHT, this.count);
    this.rowsEl.style.transform = `translateY(${start * ROW_HEIGHT}px)`;
    const nodes = [];
    for (let i = start; i < end; i++) {
      const node = this.renderRow(i);
      node.dataset.index = String(i);
      nodes.push(node);
    }
    this.rowsEl.replaceChildren(...nodes);
  }

  /** Scroll so that row `index` is visible. */
  show(index) {
    this.el.scrollTop = L.scrollToShow(this.el.scrollTop, this.height(), ROW_HEIGHT, index);
  }

  pageSize() {
    return Math.max(1, Math.floor(this.height() / ROW_HEIGHT) - 1);
  }

  /** The row index of a click's target, or null. */
  indexOf(target) {
    const row = target.closest(".tfm-row");
    return row && row.dataset.index !== undefined ? Number(row.dataset.index) : null;
  }
}
