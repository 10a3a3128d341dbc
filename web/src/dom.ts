/** A tiny DOM builder: the app renders with plain elements, no framework. */

type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/** Creates an element: `on*` attributes are listeners, `false`/null are left out. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") {
      el.addEventListener(k.slice(2).toLowerCase(), v as EventListener);
    } else if (k === "value" && "value" in el) {
      (el as HTMLInputElement).value = String(v);
    } else {
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function mount(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

let ids = 0;
/** A unique element id (labels point at inputs by id). */
export const uid = (prefix: string): string => `${prefix}-${++ids}`;

/**
 * A labelled form field with a place for its error (aria-describedby), so an
 * error from the contract can be shown at the field it concerns.
 */
export interface Field {
  row: HTMLElement;
  input: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;
  error: HTMLElement;
  set(msg: string | null): void;
}

export function field(
  label: string,
  input: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement,
  hint?: string,
): Field {
  const id = input.id || uid("f");
  input.id = id;
  const err = h("p", { class: "field-error", id: `${id}-err`, role: "alert" });
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  input.setAttribute("aria-describedby", [hintEl ? `${id}-hint` : "", `${id}-err`].join(" ").trim());
  const row = h("div", { class: "field" }, h("label", { for: id }, label), input, hintEl, err);
  return {
    row,
    input,
    error: err,
    set(msg) {
      err.textContent = msg ?? "";
      if (msg) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    },
  };
}

export function input(attrs: Attrs = {}): HTMLInputElement {
  return h("input", { type: "text", ...attrs });
}

export function select(options: [string, string][], attrs: Attrs = {}): HTMLSelectElement {
  return h("select", attrs, ...options.map(([v, t]) => h("option", { value: v }, t)));
}

/** A status line for a section (polite live region). */
export function statusLine(): HTMLElement {
  return h("p", { class: "status", role: "status", "aria-live": "polite" });
}

/** A short message in the corner, also read out by screen readers. */
export function toast(msg: string, kind: "ok" | "error" = "ok"): void {
  const box = document.getElementById("toasts");
  if (!box) return;
  const t = h("p", { class: `toast ${kind}` }, msg);
  box.appendChild(t);
  setTimeout(() => t.remove(), 6000);
}

/** A definition list from label/value pairs. */
export function dl(rows: [string, Child][]): HTMLElement {
  return h("dl", { class: "facts" }, ...rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}
