/** One listing in a result list: title, category, price, place, status, rating. */

import { h } from "../dom";
import { amount, MODEL_TEXT } from "../format";
import type { ListingInfo } from "../contracts/DataRegistry.types";

export function listingCard(l: ListingInfo): HTMLElement {
  const avg = l.rating_count ? (l.rating_sum / l.rating_count).toFixed(1) : null;
  return h(
    "li",
    { class: "card", "data-listing": l.id },
    h("h3", {}, h("a", { href: `#/listing/${l.id}` }, `#${l.id} ${l.title}`)),
    h(
      "p",
      {},
      h("span", { class: "tag" }, l.category),
      " ",
      h("span", { class: `tag status-${l.status}` }, l.status),
      ` · ${amount(l.price.amount, l.price.asset)} ${MODEL_TEXT[l.price.model] ?? l.price.model}`,
      ` · ${l.sensor_type} in ${l.unit} · cell ${l.location.geohash.slice(0, 6)}`,
      avg ? ` · ★ ${avg} (${l.rating_count})` : " · not rated yet",
    ),
  );
}
