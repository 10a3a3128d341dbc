/** The live view of a stream: the figures (units, paid, receipted, credit), an SVG chart of the readings and a table of the rows. */

import { dl, h } from "../dom";
import { amount } from "../format";
import type { DataFrame } from "../sdpp/frame";
import type { BuyerStream } from "../sdpp/session";
import { toHex } from "../sdpp/bytes";

/** Rows kept in the table (the newest); the figures count every chunk. */
const MAX_ROWS = 500;
/** Points on the chart (the newest). */
const MAX_POINTS = 120;
const W = 640;
const H = 200;
const PAD = 36;

const decoder = new TextDecoder();

/** A reading's number and unit: the payload's `value` field, else its first numeric field. */
export function reading(payload: Uint8Array): { value: number | null; unit: string; text: string } {
  const text = decoder.decode(payload);
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === "number") return { value: Number.isFinite(v) ? v : null, unit: "", text };
    if (typeof v === "object" && v !== null && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      const unit = typeof o.unit === "string" ? o.unit : "";
      if (typeof o.value === "number") return { value: o.value, unit, text };
      const first = Object.values(o).find((x): x is number => typeof x === "number" && Number.isFinite(x));
      return { value: first ?? null, unit, text };
    }
  } catch {
    // Not JSON: shown as text (or hex when it is not UTF-8 either).
    if (/[\uFFFD]/.test(text)) return { value: null, unit: "", text: `0x${toHex(payload)}` };
  }
  return { value: null, unit: "", text };
}

export interface LiveView {
  el: HTMLElement;
  /** A counted chunk (heartbeats, empty payloads, bill time but add no row). */
  add(frame: DataFrame): void;
  figures(stream: BuyerStream, deposit: bigint | null): void;
  credit(windowAmount: bigint, limit: bigint): void;
  clear(): void;
  rows(): number;
}

export function liveView(denom: string, unitName: string): LiveView {
  const fig = (id: string) => h("span", { "data-testid": id }, "0");
  const units = fig("units");
  const paid = fig("paid");
  const receipted = fig("receipted");
  const left = fig("left");
  const shown = fig("rows");
  const window_ = h("span", { "data-testid": "credit" }, "—");
  const figures = dl([
    ["Units delivered", units],
    [`Paid (vouchers signed, ${denom})`, paid],
    [`Receipted by the seller this session (${denom})`, receipted],
    [`Left in the channel (${denom})`, left],
    ["Rows shown", shown],
    ["Credit the seller gives", window_],
  ]);
  figures.setAttribute("aria-live", "off");

  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("class", "series");
  const labels = document.createElementNS("http://www.w3.org/2000/svg", "g");
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("data-testid", "chart");
  svg.append(labels, line);
  const chartNote = h("p", { class: "hint", id: "chart-note" }, "No readings yet.");
  svg.setAttribute("aria-describedby", "chart-note");

  const body = h("tbody", {});
  const caption = h("caption", {}, "Readings, newest first");
  const table = h(
    "table",
    { "data-testid": "rows-table" },
    caption,
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Chunk"), h("th", { scope: "col" }, "Taken at"), h("th", { scope: "col" }, `Value${unitName ? ` (${unitName})` : ""}`), h("th", { scope: "col" }, "Units"), h("th", { scope: "col" }, "Payload"))),
    body,
  );

  let points: [number, number][] = [];
  let count = 0;

  function draw(): void {
    if (points.length === 0) {
      line.setAttribute("points", "");
      labels.replaceChildren();
      chartNote.textContent = "No readings yet.";
      return;
    }
    const ys = points.map((p) => p[1]);
    const lo = Math.min(...ys);
    const hi = Math.max(...ys);
    const span = hi - lo || 1;
    const x0 = points[0][0];
    const xs = Math.max(1, points[points.length - 1][0] - x0);
    const at = (p: [number, number]) => `${(PAD + ((p[0] - x0) / xs) * (W - 2 * PAD)).toFixed(1)},${(H - PAD / 2 - ((p[1] - lo) / span) * (H - PAD)).toFixed(1)}`;
    line.setAttribute("points", points.map(at).join(" "));
    const label = (y: number, t: string) => {
      const e = document.createElementNS("http://www.w3.org/2000/svg", "text");
      e.setAttribute("x", "2");
      e.setAttribute("y", String(y));
      e.textContent = t;
      return e;
    };
    labels.replaceChildren(label(PAD / 2 + 4, String(hi)), label(H - PAD / 2, String(lo)));
    chartNote.textContent = `The last ${points.length} readings, chunk ${points[0][0]} to ${points[points.length - 1][0]}: from ${lo} to ${hi}${unitName ? ` ${unitName}` : ""}, latest ${points[points.length - 1][1]}.`;
  }

  return {
    // The table scrolls in its own box (keyboard too: it takes the focus).
    el: h("div", { class: "live" }, figures, h("figure", { class: "chart-box" }, svg, h("figcaption", {}, chartNote)), h("div", { class: "rows-box", tabindex: 0, role: "region", "aria-label": "Readings table" }, table)),
    add(f) {
      if (f.payload.length === 0) return;
      const r = reading(f.payload);
      const seq = Number(f.seq);
      if (r.value !== null) {
        points.push([seq, r.value]);
        if (points.length > MAX_POINTS) points = points.slice(-MAX_POINTS);
        draw();
      }
      count += 1;
      const time = new Date(Number(f.timestampMs)).toLocaleTimeString("en-GB");
      body.prepend(h("tr", { "data-seq": seq }, h("td", {}, seq), h("td", {}, time), h("td", {}, r.value ?? "—"), h("td", {}, f.units), h("td", {}, h("code", {}, r.text))));
      while (body.childElementCount > MAX_ROWS) body.lastElementChild?.remove();
      shown.textContent = String(count);
      caption.textContent = count > MAX_ROWS ? `Readings, newest first (the last ${MAX_ROWS} of ${count})` : "Readings, newest first";
    },
    figures(s, deposit) {
      units.textContent = s.received.units.toString();
      paid.textContent = amount(s.paid);
      receipted.textContent = amount(s.receipted);
      left.textContent = deposit === null ? "—" : amount(deposit > s.paid ? deposit - s.paid : 0n);
    },
    credit(w, limit) {
      window_.textContent = `${amount(w)} ${denom} ahead of payment, up to ${amount(limit)} in all this session`;
    },
    clear() {
      points = [];
      count = 0;
      body.replaceChildren();
      shown.textContent = "0";
      draw();
    },
    rows: () => count,
  };
}
