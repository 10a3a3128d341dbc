/** Sell: create and edit listings (contract errors at their field), pause, resume, retire; channels and settled income. */

import { config } from "../config";
import { field, h, input, select, statusLine, type Field } from "../dom";
import { channels, registry, registryTx, tcr, coins } from "../clients";
import { amount, assetName, short, when } from "../format";
import { act, pager } from "../ui";
import { attribute, current } from "../wallet";
import { explain } from "../errors";
import type { ListingInfo, ListingUpdate, NewListing, PricingModel } from "../contracts/DataRegistry.types";
import type { ChannelResponse } from "../contracts/PaymentChannel.types";

/** The form's fields, named as the message's fields (so an error naming one lands there). */
interface ListingForm {
  el: HTMLFormElement;
  fields: Record<string, Field>;
  read(): NewListing;
  fill(l: ListingInfo): void;
}

function listingForm(onSubmit: (f: ListingForm) => void, submitText: string, button: HTMLButtonElement): ListingForm {
  const denom = config().chain.denom;
  const f: Record<string, Field> = {
    title: field("Title", input({ name: "title", required: true, maxlength: 200 })),
    description: field("Description", h("textarea", { name: "description", rows: 3 })),
    category: field("Category", input({ name: "category", placeholder: "air-quality" }), "Lower-case words joined by hyphens."),
    sensor_type: field("Sensor type", input({ name: "sensor_type", placeholder: "pm2.5" })),
    unit: field("Unit", input({ name: "unit", placeholder: "ug/m3" })),
    latitude: field("Latitude", input({ name: "latitude", inputmode: "decimal", placeholder: "45.0625" })),
    longitude: field("Longitude", input({ name: "longitude", inputmode: "decimal", placeholder: "7.6780" })),
    price: field("Price per unit", input({ name: "price", inputmode: "numeric", placeholder: "10" }), `In ${denom}, the smallest unit.`),
    model: field("Pricing model", select([["per_message", "per message"], ["per_second", "per second"], ["per_kilobyte", "per kilobyte"]], { name: "model" })),
    metadata_cid: field("Metadata (IPFS CID)", input({ name: "metadata_cid", autocomplete: "off", placeholder: "bafy…" })),
    endpoint: field("Stream endpoint (SDPP)", input({ name: "endpoint", placeholder: "wss://gateway.example/sdpp/pm25" })),
    license: field("Licence", input({ name: "license", placeholder: "CC-BY-4.0" })),
    terms_hash: field("Terms (sha256, 64 hex digits)", input({ name: "terms_hash", autocomplete: "off" })),
  };
  // The contract names the location as one field: show it at latitude.
  f.location = f.latitude;
  f.cid = f.metadata_cid;
  const el = h(
    "form",
    {
      class: "listing-form",
      novalidate: true,
      onsubmit: (e: Event) => {
        e.preventDefault();
        onSubmit(form);
      },
    },
    h("div", { class: "grid" }, ...Object.entries(f).filter(([k]) => k !== "location" && k !== "cid").map(([, x]) => x.row)),
    button,
  );
  button.textContent = submitText;
  const v = (k: string) => f[k].input.value.trim();
  const form: ListingForm = {
    el,
    fields: f,
    read: () => ({
      title: v("title"),
      description: f.description.input.value,
      category: v("category"),
      sensor_type: v("sensor_type"),
      unit: v("unit"),
      location: { latitude: v("latitude"), longitude: v("longitude") },
      price: { asset: { native: denom }, amount: v("price"), model: v("model") as PricingModel },
      metadata_cid: v("metadata_cid"),
      endpoint: v("endpoint"),
      terms: { license: v("license"), terms_hash: v("terms_hash") },
    }),
    fill(l) {
      const set = (k: string, val: string) => (f[k].input.value = val);
      set("title", l.title);
      set("description", l.description);
      set("category", l.category);
      set("sensor_type", l.sensor_type);
      set("unit", l.unit);
      set("latitude", l.location.latitude);
      set("longitude", l.location.longitude);
      set("price", l.price.amount);
      set("model", l.price.model);
      set("metadata_cid", l.metadata_cid);
      set("endpoint", l.endpoint);
      set("license", l.terms.license);
      set("terms_hash", l.terms.terms_hash);
    },
  };
  return form;
}

/** The fields that changed between a listing and the form (update_listing takes only those). */
function diff(l: ListingInfo, n: NewListing): ListingUpdate {
  const u: ListingUpdate = {};
  if (n.title !== l.title) u.title = n.title;
  if (n.description !== l.description) u.description = n.description;
  if (n.category !== l.category) u.category = n.category;
  if (n.sensor_type !== l.sensor_type) u.sensor_type = n.sensor_type;
  if (n.unit !== l.unit) u.unit = n.unit;
  if (n.location.latitude !== l.location.latitude || n.location.longitude !== l.location.longitude) u.location = n.location;
  if (n.price.amount !== l.price.amount || n.price.model !== l.price.model) u.price = n.price;
  if (n.metadata_cid !== l.metadata_cid) u.metadata_cid = n.metadata_cid;
  if (n.endpoint !== l.endpoint) u.endpoint = n.endpoint;
  if (n.terms.license !== l.terms.license || n.terms.terms_hash !== l.terms.terms_hash) u.terms = n.terms;
  return u;
}

export async function sell(main: HTMLElement, arg: string | undefined): Promise<void> {
  main.append(h("h1", {}, "Sell data"));
  const me = current()?.address;
  if (!me) {
    main.append(h("p", {}, "Connect a wallet (top right) to list your sensor's stream."));
    return;
  }
  const q = await registry();
  const cfg = await q.config();
  const curated = await (await tcr()).isListed({ subject: me }).then((r) => r.listed, () => false);
  main.append(
    h(
      "p",
      { "data-testid": "seller-curation" },
      curated
        ? "You are a curated seller: you can list streams."
        : ["You are not a curated seller yet: ", h("a", { href: "#/curate" }, "apply to the curation registry"), " first; listing is refused until your application is listed."],
    ),
  );

  // Create or edit.
  const editing = arg ? await q.listing({ id: Number(arg) }).catch(() => null) : null;
  const formStatus = statusLine();
  const submit: HTMLButtonElement = h("button", { type: "submit", class: "primary" });
  const form = listingForm(
    (f) => {
      void act(
        formStatus,
        async () => {
          const n = f.read();
          if (editing) {
            await registryTx().updateListing({ id: editing.id, update: diff(editing, n) });
            location.hash = `#/listing/${editing.id}`;
            return `Listing #${editing.id} updated.`;
          }
          const dep = cfg.listing_deposit;
          const res = await registryTx().createListing(
            { ...n, metadataCid: n.metadata_cid, sensorType: n.sensor_type },
            "auto",
            undefined,
            dep ? coins(dep.amount, dep.denom) : undefined,
          );
          void myListings.reload();
          return `Listing #${attribute(res, "listing_id") ?? "?"} created.`;
        },
        { fields: f.fields, button: submit },
      );
    },
    editing ? `Save changes to #${editing.id}` : "Create listing",
    submit,
  );
  if (editing) form.fill(editing);
  main.append(
    h(
      "section",
      { "aria-labelledby": "form-h" },
      h("h2", { id: "form-h" }, editing ? `Edit listing #${editing.id}` : "New listing"),
      cfg.listing_deposit ? h("p", { class: "hint" }, `Listing needs a refundable deposit of ${amount(cfg.listing_deposit.amount, cfg.listing_deposit.denom)}.`) : null,
      form.el,
      formStatus,
    ),
  );

  // My listings, with their status actions.
  const rowStatus = statusLine();
  const list = h("ul", { class: "cards", "aria-label": "Your listings" });
  const myListings = pager<number, ListingInfo>(
    list,
    (l) => {
      const tx = registryTx;
      const btn = (text: string, run: () => Promise<unknown>, done: string) =>
        h("button", { type: "button", onclick: () => void act(rowStatus, async () => (await run(), void myListings.reload(), done)) }, text);
      return h(
        "li",
        { class: "card", "data-listing": l.id },
        h("h3", {}, h("a", { href: `#/listing/${l.id}` }, `#${l.id} ${l.title}`)),
        h("p", {}, h("span", { class: `tag status-${l.status}` }, l.status), ` · ${amount(l.price.amount, l.price.asset)} · ${l.category}`),
        l.status === "retired"
          ? null
          : h(
              "div",
              { class: "actions" },
              h("a", { href: `#/sell/${l.id}`, class: "button" }, "Edit"),
              l.status === "active" ? btn("Pause", () => tx().pauseListing({ id: l.id }), `Listing #${l.id} paused.`) : null,
              l.status === "paused" ? btn("Resume", () => tx().resumeListing({ id: l.id }), `Listing #${l.id} resumed.`) : null,
              btn("Retire", () => tx().retireListing({ id: l.id }), `Listing #${l.id} retired.`),
            ),
      );
    },
    async (cursor) => {
      const page = (await q.listingsBySeller({ seller: me, startAfter: cursor ?? undefined, limit: 10 })).listings;
      return { items: page, next: page.length === 10 ? page[page.length - 1].id : null };
    },
    "You have no listings yet.",
  );
  main.append(h("section", { "aria-labelledby": "mine-h" }, h("h2", { id: "mine-h" }, "Your listings"), rowStatus, list, myListings.el));

  // Channels paying me, and the income settled on them.
  const totals = new Map<string, bigint>();
  const income = h("p", { "data-testid": "income" }, "Settled income: nothing yet.");
  const table = h("tbody");
  const chPager = pager<number, ChannelResponse>(
    table,
    (c) => {
      const key = assetName(c.asset);
      totals.set(key, (totals.get(key) ?? 0n) + BigInt(c.claimed));
      income.textContent = `Settled income on the channels shown: ${[...totals].map(([a, v]) => amount(v, a)).join(", ")}.`;
      const st = typeof c.status === "string" ? c.status : `closing (final after ${when(c.status.closing.finalize_after)})`;
      return h(
        "tr",
        {},
        h("td", {}, `#${c.id}`),
        h("td", {}, h("code", { title: c.payer }, short(c.payer))),
        h("td", {}, c.listing ? `#${c.listing.listing_id}` : "—"),
        h("td", {}, amount(c.deposit, c.asset)),
        h("td", {}, amount(c.claimed, c.asset)),
        h("td", {}, st),
      );
    },
    async (cursor) => {
      const page = (await (await channels()).channelsByPayee({ payee: me, startAfter: cursor ?? undefined, limit: 10 })).channels;
      return { items: page, next: page.length === 10 ? page[page.length - 1].id : null };
    },
    "No channel pays you yet.",
  );
  main.append(
    h(
      "section",
      { "aria-labelledby": "ch-h" },
      h("h2", { id: "ch-h" }, "Channels and income"),
      income,
      h(
        "table",
        {},
        h("caption", { class: "sr-only" }, "Payment channels paying you"),
        h("thead", {}, h("tr", {}, ...["Channel", "Buyer", "Listing", "Deposit", "Claimed (settled)", "Status"].map((t) => h("th", { scope: "col" }, t)))),
        table,
      ),
      chPager.el,
    ),
  );
  await Promise.all([myListings.reload(), chPager.reload().catch((e) => income.append(explain(e).text))]);
}
