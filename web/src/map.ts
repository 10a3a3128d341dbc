/** An offline map picker: an SVG grid of geohash cells to drill into (no tiles, no network). */

import { BASE32, bounds, sizeKm, type Box } from "./geohash";
import { h } from "./dom";

const SVG = "http://www.w3.org/2000/svg";
const W = 480;
const H = 300;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

const deg = (v: number, pos: string, neg: string) => `${Math.abs(v).toFixed(3)}°${v >= 0 ? pos : neg}`;
export const describeBox = (b: Box): string =>
  `${deg(b.south, "N", "S")} to ${deg(b.north, "N", "S")}, ${deg(b.west, "E", "W")} to ${deg(b.east, "E", "W")}`;

export interface MapPicker {
  el: HTMLElement;
  /** The cell shown (its 32 children are drawn). */
  show(cell: string): void;
  /** Marks points (listings) on the map. */
  mark(points: { lat: number; lon: number; label: string }[]): void;
}

/**
 * `onPick(cell)` fires when a cell is chosen (a child cell, by click or
 * Enter/Space on its focused square, or "this cell").
 */
export function mapPicker(onPick: (cell: string) => void): MapPicker {
  let cell = "";
  let points: { lat: number; lon: number; label: string }[] = [];
  const title = h("p", { class: "map-title", "aria-live": "polite" });
  const up: HTMLButtonElement = h("button", { type: "button", onclick: () => show(cell.slice(0, -1)) }, "Zoom out");
  const pickThis: HTMLButtonElement = h("button", { type: "button", onclick: () => onPick(cell) }, "Search this cell");
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "map", role: "group", "aria-label": "Map of geohash cells" });
  const el = h("div", { class: "map-box" }, title, root, h("div", { class: "actions" }, up, pickThis));

  function draw(): void {
    const b = bounds(cell);
    const x = (lon: number) => ((lon - b.west) / (b.east - b.west)) * W;
    const y = (lat: number) => ((b.north - lat) / (b.north - b.south)) * H;
    root.replaceChildren();
    for (const ch of BASE32) {
      const child = cell + ch;
      const cb = bounds(child);
      const g = svg("g", { role: "button", tabindex: 0, class: "cell", "aria-label": `cell ${child}: ${describeBox(cb)}`, "data-cell": child });
      const rx = x(cb.west), ry = y(cb.north), rw = x(cb.east) - rx, rh = y(cb.south) - ry;
      g.appendChild(svg("rect", { x: rx, y: ry, width: rw, height: rh }));
      const t = svg("text", { x: rx + rw / 2, y: ry + rh / 2 + 5, "text-anchor": "middle" });
      t.textContent = child.length > 3 ? `…${child.slice(-2)}` : child;
      g.appendChild(t);
      const go = () => (child.length >= 9 ? onPick(child) : (show(child), onPick(child)));
      g.addEventListener("click", go);
      g.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          go();
        }
      });
      root.appendChild(g);
    }
    for (const p of points) {
      if (p.lat < b.south || p.lat > b.north || p.lon < b.west || p.lon > b.east) continue;
      const dot = svg("circle", { cx: x(p.lon), cy: y(p.lat), r: 5, class: "pin" });
      const tt = svg("title", {});
      tt.textContent = p.label;
      dot.appendChild(tt);
      root.appendChild(dot);
    }
    title.textContent = cell
      ? `Cell ${cell} (${sizeKm(cell)}; ${describeBox(b)}): choose a smaller cell, or search this one.`
      : "The whole world: choose a cell.";
    up.disabled = cell === "";
    pickThis.disabled = cell === "";
  }
  function show(c: string): void {
    cell = c;
    draw();
  }
  draw();
  return {
    el,
    show,
    mark(p) {
      points = p;
      draw();
    },
  };
}
