/** A listing: seller, curation status and reputation, price model, terms, ratings; buyers rate it here. */

import { h, dl } from "../dom";
import { registry, tcr } from "../clients";
import { amount, MODEL_TEXT, short, when } from "../format";
import { pager } from "../ui";
import { rateForm } from "./rate-form";
import { current } from "../wallet";
import { explain } from "../errors";
import type { RatingResponse } from "../contracts/DataRegistry.types";

const pct = (bps: number) => `${(bps / 100).toFixed(bps % 100 ? 1 : 0)}%`;

export async function listing(main: HTMLElement, arg: string | undefined): Promise<void> {
  const id = Number(arg);
  if (!Number.isInteger(id) || id <= 0) throw new Error(`“${arg}” is not a listing id`);
  const q = await registry();
  const l = await q.listing({ id });
  const t = await tcr();
  const [curation, reputation] = await Promise.all([
    t.listing({ subject: l.seller }).then(
      (x) =>
        `${x.listed ? `curated: listed since ${when(x.listed_since)}` : x.status === "application" ? "applied, not listed yet" : x.status}` +
        `${x.challenge_id != null ? `, challenged in poll #${x.challenge_id}` : ""}, stake ${amount(x.deposit)}`,
      (e) => (/no application or listing/.test(explain(e).raw) ? "not in the curation registry" : explain(e).text),
    ),
    t.reputation({ subject: l.seller }).then(
      // Basis points: score 0–10,000 = stake (≤ 4,000) + tenure (≤ 3,000) + challenges survived (≤ 3,000).
      (r) => `${pct(r.score)} (stake ${pct(r.stake_part)} of 40%, tenure ${pct(r.tenure_part)} of 30%, challenges survived ${pct(r.survival_part)} of 30%)`,
      () => "none yet",
    ),
  ]);
  const summary = await q.ratingSummary({ id });

  const ratings = h("ul", { class: "ratings", "aria-label": "Ratings" });
  const pg = pager<string, RatingResponse>(
    ratings,
    (r) => h("li", {}, `★ ${r.score} by ${short(r.buyer)} at height ${r.height}`, r.review_cid ? ` · review ${r.review_cid}` : ""),
    async (cursor) => {
      const page = (await q.ratings({ id, startAfter: cursor ?? undefined, limit: 10 })).ratings;
      return { items: page, next: page.length === 10 ? page[page.length - 1].buyer : null };
    },
    "No ratings yet.",
  );

  const rate = rateForm(id, () => void pg.reload(), "Only buyers who paid for enough of this stream through a payment channel can rate it; the registry checks the payment on chain.");
  const me = current()?.address;
  main.append(
    h("p", {}, h("a", { href: "#/market" }, "← Marketplace")),
    h("h1", {}, `#${l.id} ${l.title}`),
    h("p", {}, l.description || h("em", {}, "No description.")),
    dl([
      ["Status", h("span", { "data-testid": "listing-status" }, l.status)],
      ["Seller", h("code", { title: l.seller }, l.seller)],
      ["Seller's curation", h("span", { "data-testid": "curation" }, curation)],
      ["Seller's reputation", reputation],
      ["Category", l.category],
      ["Sensor", `${l.sensor_type}, in ${l.unit}`],
      ["Price", `${amount(l.price.amount, l.price.asset)} ${MODEL_TEXT[l.price.model] ?? l.price.model}`],
      ["Place", `${l.location.latitude}, ${l.location.longitude} (cell ${l.location.geohash})`],
      ["Stream endpoint", h("code", {}, l.endpoint)],
      ["Metadata", h("code", {}, l.metadata_cid)],
      ["Licence", l.terms.license],
      ["Terms (sha256)", h("code", {}, l.terms.terms_hash)],
      ["Deposit", l.deposit ? amount(l.deposit.amount, l.deposit.denom) : "none"],
      ["Ratings", summary.count ? `★ ${summary.average ?? "—"} from ${summary.count}` : "none yet"],
      ["Created / updated", `height ${l.created_height} / ${l.updated_height}`],
    ]),
    h("p", {}, h("a", { href: `#/stream/${l.id}` }, "Buy this stream"), me === l.seller ? [" · ", h("a", { href: `#/sell/${l.id}` }, "Edit (you are the seller)")] : null),
    h("section", { "aria-labelledby": "ratings-h" }, h("h2", { id: "ratings-h" }, "Ratings"), ratings, pg.el),
    me ? rate : h("p", { class: "hint" }, "Connect a wallet to rate."),
  );
  await pg.reload();
}
