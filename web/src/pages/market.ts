/** Marketplace: search listings by category, price range and place (offline geohash map), page by page. */

import { config } from "../config";
import { field, h, input, select } from "../dom";
import { registry } from "../clients";
import { isCell } from "../geohash";
import { mapPicker } from "../map";
import { pager } from "../ui";
import { listingCard } from "./listing-card";
import type { ListingInfo, PricingModel } from "../contracts/DataRegistry.types";

type Cursor = Record<string, unknown>;

export function market(main: HTMLElement): void {
  const denom = config().chain.denom;
  const category = field("Category", input({ name: "category", placeholder: "e.g. air-quality", autocomplete: "off" }), "A category slug; empty searches every listing.");
  const minPrice = field("Lowest price per unit", input({ name: "min", inputmode: "numeric", placeholder: "0" }));
  const maxPrice = field("Highest price per unit", input({ name: "max", inputmode: "numeric", placeholder: "no limit" }));
  const model = field("Pricing model", select([["per_message", "per message"], ["per_second", "per second"], ["per_kilobyte", "per kilobyte"]], { name: "model" }), "Price ranges compare prices of one model.");
  const asset = field("Price asset (native denom)", input({ name: "asset", value: denom }));
  const cell = field("Place (geohash cell)", input({ name: "cell", placeholder: "e.g. u0j2", autocomplete: "off" }), "Pick on the map or type a cell; empty searches everywhere.");
  const limit = field("Results per page", select([["5", "5"], ["10", "10"], ["30", "30"]], { name: "limit" }));
  const map = mapPicker((c) => {
    cell.input.value = c;
  });
  const markPins = (ls: ListingInfo[]) =>
    map.mark(ls.map((l) => ({ lat: Number(l.location.latitude), lon: Number(l.location.longitude), label: `#${l.id} ${l.title}` })));
  const mode = h("p", { class: "hint", "aria-live": "polite" });
  const list = h("ul", { class: "cards", "aria-label": "Search results" });

  const pg = pager<Cursor, ListingInfo>(
    list,
    listingCard,
    async (cursor) => {
      const q = await registry();
      const n = Number(limit.input.value);
      const cat = category.input.value.trim();
      const c = cell.input.value.trim().toLowerCase();
      const min = minPrice.input.value.trim();
      const max = maxPrice.input.value.trim();
      let res: ListingInfo[];
      let next: (l: ListingInfo) => Cursor;
      if (c) {
        // The place index has no category or price: those filters apply to each page of the cell's listings.
        const keep = (l: ListingInfo) =>
          (!cat || l.category === cat) &&
          (!min || BigInt(l.price.amount) >= BigInt(min)) &&
          (!max || BigInt(l.price.amount) <= BigInt(max));
        // A page the filters empty is skipped, up to 5 pages a click (bounded work per click).
        let after = cursor;
        for (let tries = 0; ; tries++) {
          res = (await q.listingsNear({ cell: c, limit: n, startAfter: after as never })).listings;
          const more = res.length === n ? { geohash: res[n - 1].location.geohash, id: res[n - 1].id } : null;
          const items = res.filter(keep);
          markPins(items);
          if (items.length || !more || tries === 4) return { items, next: more };
          after = more;
        }
      }
      if (cat && (min || max)) {
        res = (
          await q.listingsByPrice({
            category: cat,
            asset: { native: asset.input.value.trim() },
            model: model.input.value as PricingModel,
            minPrice: min || undefined,
            maxPrice: max || undefined,
            limit: n,
            startAfter: cursor as never,
          })
        ).listings;
        next = (l) => ({ price: l.price.amount, id: l.id });
      } else if (cat) {
        res = (await q.listingsByCategory({ category: cat, limit: n, startAfter: cursor as never })).listings;
        next = (l) => ({
          asset: "native" in l.price.asset ? { native: l.price.asset.native } : { cw20: l.price.asset.cw20 },
          model: l.price.model,
          price: l.price.amount,
          id: l.id,
        });
      } else {
        res = (await q.listings({ limit: n, startAfter: (cursor as { id: number } | null)?.id })).listings;
        next = (l) => ({ id: l.id });
      }
      markPins(res);
      return { items: res, next: res.length === n ? next(res[res.length - 1]) : null };
    },
    "No listing matches.",
  );

  const form = h(
    "form",
    {
      class: "search",
      role: "search",
      "aria-label": "Search listings",
      onsubmit: (e: Event) => {
        e.preventDefault();
        for (const f of [cell, minPrice, maxPrice]) f.set(null);
        const c = cell.input.value.trim().toLowerCase();
        if (c && !isCell(c)) return cell.set("A geohash cell is 1 to 9 characters of 0-9 and b-z without a, i, l, o.");
        for (const f of [minPrice, maxPrice]) {
          if (f.input.value.trim() && !/^\d+$/.test(f.input.value.trim())) return f.set("A whole number of the asset's smallest unit.");
        }
        const cat = category.input.value.trim();
        mode.textContent = c
          ? `Listings in cell ${c}${cat || minPrice.input.value || maxPrice.input.value ? ", filtered by category and price within each page" : ""}.`
          : cat && (minPrice.input.value || maxPrice.input.value)
            ? `Active ${cat} listings priced ${model.input.value.replace("_", " ")} in ${asset.input.value}, cheapest first.`
            : cat
              ? `Active ${cat} listings, cheapest first within each asset and model.`
              : "Every listing (any status), by id.";
        void pg.reload();
      },
    },
    h("div", { class: "grid" }, category.row, minPrice.row, maxPrice.row, model.row, asset.row, cell.row, limit.row),
    h("button", { type: "submit", class: "primary" }, "Search"),
  );
  main.append(
    h("h1", {}, "Marketplace"),
    h("p", {}, "Find data streams from the city's sensors. Listings are on chain; only curated sellers can list."),
    h("div", { class: "two" }, form, h("section", { "aria-label": "Map" }, map.el)),
    h("section", { "aria-labelledby": "results-h" }, h("h2", { id: "results-h" }, "Results"), mode, list, pg.el),
  );
  (form.querySelector("button[type=submit]") as HTMLButtonElement).click();
}
