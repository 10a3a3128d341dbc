/**
 * The buyer's payment channel for a listing: finds the open channel this
 * browser holds the voucher key of (bound to the listing, paying its seller
 * in its asset), or opens one — the key is made here and registered by the
 * open transaction, the one thing the wallet signs — and tops it up.
 */

import { fromBase64, toBase64 } from "@cosmjs/encoding";
import { channels, channelsTx, coins } from "../clients";
import { config } from "../config";
import { dl, field, h, input, mount, statusLine } from "../dom";
import { amount } from "../format";
import { act } from "../ui";
import { attribute, type Session } from "../wallet";
import { TxError } from "../errors";
import { toHex } from "../sdpp/bytes";
import { generateChannelKey } from "../sdpp/crypto";
import { getKey, putKey, updateKey, type KeyRecord } from "../sdpp/store";
import type { ChannelResponse } from "../contracts/PaymentChannel.types";
import type { ListingInfo } from "../contracts/DataRegistry.types";

export interface Ready {
  channel: ChannelResponse;
  key: KeyRecord;
}

/** Below this many units' worth left, the page suggests a top-up. */
const LOW_UNITS = 10n;

async function payerChannels(payer: string): Promise<ChannelResponse[]> {
  const q = await channels();
  const out: ChannelResponse[] = [];
  let startAfter: number | undefined;
  for (;;) {
    const page = (await q.channelsByPayer({ payer, startAfter, limit: 30 })).channels;
    out.push(...page);
    if (page.length < 30) return out;
    startAfter = page[page.length - 1].id;
  }
}

/** A whole number of base units above zero, or an error at the field. */
function units(f: ReturnType<typeof field>, what: string): bigint {
  const v = f.input.value.trim();
  if (!/^[1-9][0-9]{0,30}$/.test(v)) throw new TxError(`The ${what} must be a whole number of ${config().chain.denom} above zero.`, `bad ${what}`, what);
  return BigInt(v);
}

export interface ChannelSection {
  el: HTMLElement;
  /** Reads the chain and this browser's keys again and redraws. */
  refresh(): Promise<Ready | null>;
  /** Marks the channel as out of deposit (the seller ended the stream at its limit). */
  exhausted(): void;
  /** New figures of the channel in use (deposit, claimed). */
  update(c: ChannelResponse): void;
}

export function channelSection(l: ListingInfo, me: Session, onReady: (r: Ready | null) => void): ChannelSection {
  const cfg = config();
  const denom = cfg.chain.denom;
  const price = BigInt(l.price.amount);
  const body = h("div", {});
  // Outside the redrawn part: an action's result outlives the redraw it causes.
  const status = statusLine();
  const el = h("section", { "aria-labelledby": "channel-h" }, h("h2", { id: "channel-h" }, "1. Payment channel"), body, status);
  let ready: Ready | null = null;
  let low = false;
  let foreign: ChannelResponse[] = [];

  const bound = (c: ChannelResponse) =>
    c.payee === l.seller &&
    c.status === "open" &&
    c.listing?.registry === cfg.contracts.data_registry &&
    c.listing.listing_id === l.id &&
    JSON.stringify(c.asset) === JSON.stringify(l.price.asset);

  async function refresh(): Promise<Ready | null> {
    const mine = (await payerChannels(me.address)).filter(bound);
    const usable: Ready[] = [];
    foreign = [];
    for (const c of mine) {
      let key = c.scheme === "ed25519" ? await getKey(toHex(fromBase64(c.pubkey))) : undefined;
      if (key && key.channelId === null) {
        // The open transaction went through but its answer was lost (a reload): record its id now.
        key = await updateKey(key.pubkey, (r) => (r.channelId = c.id));
      }
      if (key && key.channelId === c.id) usable.push({ channel: c, key });
      else foreign.push(c);
    }
    const left = (r: Ready) => BigInt(r.channel.deposit) - (r.key.stream?.paid ?? 0n);
    usable.sort((a, b) => (left(b) > left(a) ? 1 : left(b) < left(a) ? -1 : 0));
    ready = usable[0] ?? null;
    low = ready !== null && left(ready) < price * LOW_UNITS;
    draw();
    onReady(ready);
    return ready;
  }

  function draw(): void {
    const notes = foreign.length
      ? h(
          "p",
          { class: "hint", "data-testid": "foreign-channels" },
          `Open channel${foreign.length > 1 ? "s" : ""} ${foreign.map((c) => `#${c.id}`).join(", ")} for this listing ${foreign.length > 1 ? "were" : "was"} opened elsewhere: this browser does not hold ${foreign.length > 1 ? "their" : "its"} voucher key, so ${foreign.length > 1 ? "they" : "it"} cannot pay here.`,
        )
      : null;
    mount(body, ready ? using(ready) : opening(), notes);
  }

  // Figures the page updates while it is shown (the seller's watchtower claims as vouchers arrive).
  const depositEl = h("span", { "data-testid": "channel-deposit" });
  const claimedEl = h("span", { "data-testid": "channel-claimed" });
  function update(c: ChannelResponse): void {
    depositEl.textContent = amount(c.deposit, denom);
    claimedEl.textContent = amount(c.claimed, denom);
  }

  function using(r: Ready): HTMLElement {
    const c = r.channel;
    update(c);
    const topUp = field(`Top up by (${denom})`, input({ name: "top-up", inputmode: "numeric", value: (price * 100n).toString() }));
    const button: HTMLButtonElement = h("button", { type: "submit", class: low ? "primary" : "" }, "Top up");
    return h(
      "div",
      { "data-testid": "channel", "data-channel": c.id },
      h("p", {}, `Your channel #${c.id} to the seller pays for this stream.`),
      dl([
        ["Deposit", depositEl],
        ["Claimed by the seller on chain", claimedEl],
        ["Voucher key", r.key.material.kind === "webcrypto" ? "made in this browser (WebCrypto ed25519; it signs here and cannot be read out)" : "made in this browser (ed25519), stored in its IndexedDB"],
      ]),
      low ? h("p", { class: "warn", role: "status" }, `Little is left: top up to keep streaming (at ${amount(price, denom)} a unit).`) : null,
      h(
        "form",
        {
          class: "actions",
          "aria-label": "Top up the channel",
          onsubmit: (e: Event) => {
            e.preventDefault();
            void act(
              status,
              async () => {
                const add = units(topUp, "top_up");
                await channelsTx().topUp({ channelId: c.id }, "auto", undefined, coins(add, denom));
                await refresh();
                return `Channel #${c.id} topped up by ${amount(add, denom)}.`;
              },
              { fields: { top_up: topUp }, button },
            );
          },
        },
        topUp.row,
        button,
      ),
    );
  }

  function opening(): HTMLElement {
    if (!("native" in l.price.asset)) {
      return h("p", { class: "status error" }, "This listing is priced in a cw20 token; opening a cw20 channel from the browser is not supported yet.");
    }
    const deposit = field(`Deposit (${denom})`, input({ name: "deposit", inputmode: "numeric", value: (price * 200n).toString() }), `At ${amount(price, denom)} a unit, the default pays for 200 units. What you do not use stays yours: close the channel to take it back.`);
    const button: HTMLButtonElement = h("button", { type: "submit", class: "primary" }, "Open a channel");
    return h(
      "form",
      {
        "aria-label": "Open a payment channel",
        onsubmit: (e: Event) => {
          e.preventDefault();
          void act(
            status,
            async () => {
              const funds = units(deposit, "deposit");
              const key = await generateChannelKey();
              const pubkey = toHex(key.publicKey);
              // Stored before the transaction: whatever happens next, the key of the channel it opens survives.
              await putKey({
                pubkey,
                chainId: cfg.chain.chain_id,
                contract: cfg.contracts.payment_channel,
                registry: cfg.contracts.data_registry,
                listingId: l.id,
                payer: me.address,
                payee: l.seller,
                channelId: null,
                material: key.material,
                stream: null,
                createdAt: Date.now(),
              });
              const res = await channelsTx().open(
                { payee: l.seller, pubkey: toBase64(key.publicKey), scheme: "ed25519", listing: { registry: cfg.contracts.data_registry, listing_id: l.id } },
                "auto",
                undefined,
                coins(funds, denom),
              );
              const id = Number(attribute(res, "channel_id"));
              if (!Number.isSafeInteger(id) || id <= 0) throw new TxError("The channel was opened, but the chain did not say its id: reload the page to find it.", "no channel_id attribute");
              await updateKey(pubkey, (r) => (r.channelId = id));
              await refresh();
              return `Channel #${id} opened with ${amount(funds, denom)}; its voucher key was made in this browser.`;
            },
            { fields: { deposit }, button },
          );
        },
      },
      h("p", {}, "You have no open channel for this listing yet."),
      h("p", { class: "hint" }, "Opening one deposits funds for the seller and registers a voucher key made in this browser: your wallet signs this one transaction, and every payment while streaming is signed here, without asking again."),
      deposit.row,
      button,
    );
  }

  return {
    el,
    refresh,
    update,
    exhausted() {
      low = true;
      if (ready) draw();
    },
  };
}
