/** Running a user action: busy state, success text, and errors in words (at the field they concern when there is one). */

import { Cancelled, explain } from "./errors";
import { h, mount, toast, type Field } from "./dom";

export interface ActOptions {
  /** Form fields by message field name: an error naming one is shown there. */
  fields?: Record<string, Field>;
  /** The button to disable while the action runs. */
  button?: HTMLButtonElement;
}

/** Runs `fn`; `status` shows progress, then its result or the error. Returns whether it succeeded. */
export async function act(status: HTMLElement, fn: () => Promise<string | void>, opts: ActOptions = {}): Promise<boolean> {
  for (const f of Object.values(opts.fields ?? {})) f.set(null);
  status.className = "status";
  status.setAttribute("role", "status");
  status.textContent = "Working…";
  if (opts.button) opts.button.disabled = true;
  try {
    const msg = await fn();
    status.textContent = msg ?? "Done.";
    status.className = "status ok";
    if (msg) toast(msg);
    return true;
  } catch (e) {
    if (e instanceof Cancelled) {
      status.textContent = "Cancelled: nothing was signed.";
      return false;
    }
    const err = explain(e);
    status.className = "status error";
    status.setAttribute("role", "alert");
    mount(
      status,
      h("span", { class: "err-text" }, err.text),
      err.raw !== err.text ? h("details", {}, h("summary", {}, "The contract's words"), h("code", {}, err.raw)) : null,
    );
    const f = err.field ? opts.fields?.[err.field] : undefined;
    if (f) {
      f.set(err.text);
      f.input.focus();
    }
    return false;
  } finally {
    if (opts.button) opts.button.disabled = false;
  }
}

/** A "Load more" pager over a start_after/limit query: `fetch(cursor)` returns the page and the next cursor. */
export function pager<C, T>(
  list: HTMLElement,
  render: (item: T) => Node,
  fetchPage: (cursor: C | null) => Promise<{ items: T[]; next: C | null }>,
  empty: string,
): { el: HTMLElement; reload: () => Promise<void> } {
  const status = h("p", { class: "status", role: "status", "aria-live": "polite" });
  let cursor: C | null = null;
  let count = 0;
  const more: HTMLButtonElement = h("button", { type: "button", onclick: () => void load() }, "Next page");
  async function load(): Promise<void> {
    more.disabled = true;
    status.textContent = "Loading…";
    try {
      const page = await fetchPage(cursor);
      page.items.forEach((it) => list.appendChild(render(it)));
      count += page.items.length;
      cursor = page.next;
      more.hidden = page.next === null;
      status.textContent = count === 0 ? empty : `${count} shown${page.next === null ? " (all)" : ""}`;
    } catch (e) {
      status.textContent = explain(e).text;
      status.className = "status error";
    } finally {
      more.disabled = false;
    }
  }
  return {
    el: h("div", { class: "pager" }, more, status),
    async reload() {
      list.replaceChildren();
      cursor = null;
      count = 0;
      status.className = "status";
      await load();
    },
  };
}
