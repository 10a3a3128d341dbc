/**
 * Buy a stream: a payment channel for the listing (stream-channel.ts), then
 * the listing's SDPP endpoint over a WebSocket — the offer checked against
 * the chain and the seller's certified gateway key, every chunk counted by
 * the pricing rule and paid with vouchers signed by the channel's key in
 * this browser — shown live (stream-view.ts) until Stop; then a rating.
 * Reconnects after a drop, resumes after a reload from the stored record.
 */

import { channels, registry } from "../clients";
import { config } from "../config";
import { dl, h, mount, statusLine } from "../dom";
import { amount, MODEL_TEXT } from "../format";
import { current } from "../wallet";
import { explain } from "../errors";
import { fromHex } from "../sdpp/bytes";
import { CODES, codeName } from "../sdpp/codes";
import { Connection, ConnectError, type Report } from "../sdpp/client";
import { channelSigner, offerVerifier } from "../sdpp/crypto";
import { putKey } from "../sdpp/store";
import type { BuyerConfig, BuyerStream } from "../sdpp/session";
import type { ListingInfo } from "../contracts/DataRegistry.types";
import { channelSection, type Ready } from "./stream-channel";
import { liveView } from "./stream-view";
import { rateForm } from "./rate-form";

/** How long a dropped or busy connection is retried before the page gives up. */
const RETRY_FOR_MS = 20_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function buyerConfig(l: ListingInfo, r: Ready): BuyerConfig {
  const cfg = config();
  const termsHash = fromHex(l.terms.terms_hash, 32);
  if (!termsHash) throw new Error(`listing #${l.id} has a terms hash that is not 32 bytes`);
  return {
    chainId: cfg.chain.chain_id,
    registry: cfg.contracts.data_registry,
    listingId: l.id,
    seller: l.seller,
    terms: { license: l.terms.license, termsHash },
    price: { asset: l.price.asset, amount: BigInt(l.price.amount), model: l.price.model },
    channel: { contract: cfg.contracts.payment_channel, id: r.channel.id, scheme: "ed25519" },
    deposit: BigInt(r.channel.deposit),
    maxAmount: null,
    maxPayload: 65_536,
    payAtPercent: 50,
    idlePayMs: 1_000,
  };
}

/** What a finished session means for the person watching. */
function ending(rep: Report): { text: string; retry: boolean; topUp: boolean; error: boolean } {
  const c = rep.sellerClose;
  const say = (text: string, o: { retry?: boolean; topUp?: boolean; error?: boolean } = {}) => ({ text, retry: false, topUp: false, error: false, ...o });
  if (rep.refused) return say(`This browser refused the seller (${codeName(rep.refused.code)}): ${rep.refused.message}. Nothing beyond what arrived and was counted is paid.`, { error: true });
  if (rep.stopped) return say("Stopped: everything received is paid.");
  if (c?.code === CODES.LIMIT_REACHED) return say("The channel's deposit is used up: top up the channel, then start again to continue where the stream stopped.", { topUp: true });
  if (c?.code === CODES.NORMAL) return say(`The seller ended the stream${c.reason ? `: ${c.reason}` : ""}.`);
  if (c && (c.code === CODES.UNAVAILABLE || c.code === CODES.SHUTTING_DOWN)) return say(`The seller paused the stream (${codeName(c.code)}); reconnecting…`, { retry: true });
  if (c) return say(`The seller closed the stream: ${codeName(c.code)} ${c.reason}`, { error: true });
  return say("The connection dropped; reconnecting…", { retry: true });
}

export async function stream(main: HTMLElement, arg: string | undefined): Promise<void> {
  const id = Number(arg);
  if (!Number.isInteger(id) || id <= 0) throw new Error(`“${arg ?? ""}” is not a listing id: open a listing and choose “Buy this stream”`);
  const cfg = config();
  const denom = cfg.chain.denom;
  const l = await (await registry()).listing({ id });
  const price = BigInt(l.price.amount);
  mount(
    main,
    h("p", {}, h("a", { href: `#/listing/${l.id}` }, `← Listing #${l.id}`)),
    h("h1", {}, `Buy a stream: ${l.title}`),
    dl([
      ["Seller", h("code", {}, l.seller)],
      ["Price", h("span", { "data-testid": "price" }, `${amount(l.price.amount, l.price.asset)} ${MODEL_TEXT[l.price.model] ?? l.price.model}`)],
      ["Sensor", `${l.sensor_type}, in ${l.unit}`],
      ["Stream endpoint", h("code", {}, l.endpoint)],
      ["Licence", `${l.terms.license} (terms sha256 ${l.terms.terms_hash.slice(0, 16)}…, accepted with each session)`],
    ]),
  );
  if (l.status !== "active") {
    main.append(h("p", { class: "status error", role: "alert" }, `This listing is ${l.status}: it cannot be bought now.`));
    return;
  }
  const session = current();
  if (!session) {
    main.append(h("p", { class: "status" }, "Connect a wallet (top right) to open a payment channel and stream."));
    return;
  }
  const me = session;

  const view = liveView(denom, l.unit);
  const status = statusLine();
  status.dataset.testid = "stream-status";
  const start: HTMLButtonElement = h("button", { type: "button", class: "primary", disabled: true }, "Start streaming");
  const stop: HTMLButtonElement = h("button", { type: "button", disabled: true }, "Stop");
  let ready: Ready | null = null;
  let conn: Connection | null = null;
  let stopping = false;

  const section = channelSection(l, me, (r) => {
    ready = r;
    start.disabled = r === null || conn !== null;
    view.figures(r?.key.stream ?? emptyStream(), r ? BigInt(r.channel.deposit) : null);
  });
  const emptyStream = (): BuyerStream => ({ listingId: l.id, channelId: 0, received: { seq: 0n, units: 0n, bytes: 0n }, paid: 0n, paidSignature: null, receipted: 0n });

  const claimed = h("span", { "data-testid": "claimed" }, "—");
  const rate = rateForm(id, () => void refreshClaimed(), h("span", {}, "A first rating needs a purchase the seller has claimed on chain (its watchtower claims vouchers soon after they arrive). Claimed from you so far: ", claimed, "."));

  async function refreshClaimed(): Promise<void> {
    try {
      const [paid, rc] = await Promise.all([
        (await channels()).paidForListing({ payer: me.address, payee: l.seller, registry: cfg.contracts.data_registry, listingId: l.id }),
        (await registry()).config(),
      ]);
      const got = paid.paid.filter((a) => JSON.stringify(a.info) === JSON.stringify(l.price.asset)).reduce((s, a) => s + BigInt(a.amount), 0n);
      claimed.textContent = `${amount(got, denom)} (a first rating needs ${amount(price * BigInt(rc.min_rating_units), denom)})`;
    } catch (e) {
      claimed.textContent = explain(e).text;
    }
  }

  async function run(r: Ready): Promise<void> {
    const key = r.key;
    let record = key.stream;
    let deposit = BigInt(r.channel.deposit);
    const signer = channelSigner(key.material, key.chainId, key.contract, r.channel.id);
    const persist = async (s: BuyerStream) => {
      record = s;
      key.stream = s;
      await putKey(key);
    };
    let since = Date.now();
    let delay = 250;
    for (;;) {
      // A session's limit is fixed at its handshake: read the deposit anew for each.
      const fresh = await (await channels()).channel({ channelId: r.channel.id });
      deposit = BigInt(fresh.deposit);
      status.textContent = `Connecting to ${l.endpoint}…`;
      const c = new Connection(l.endpoint, buyerConfig(l, { channel: fresh, key }), record, signer, offerVerifier, {
        persist,
        onData: (f, s) => {
          view.add(f);
          view.figures(s, deposit);
        },
        onPayment: (s) => view.figures(s, deposit),
        onAccepted: (w, limit) => {
          view.credit(w, limit);
          status.textContent = `Streaming: offer accepted (terms ${l.terms.license}, ${amount(l.price.amount, l.price.asset)} ${MODEL_TEXT[l.price.model]}), vouchers signed in this browser.`;
        },
      });
      conn = c;
      if (stopping) c.stop();
      let retry = false;
      try {
        const { report } = await c.done;
        view.figures(record ?? emptyStream(), deposit);
        const e = ending(report);
        status.textContent = e.text;
        status.className = e.error ? "status error" : "status";
        if (e.topUp) section.exhausted();
        if (report.chunks > 0) since = Date.now();
        retry = e.retry && !stopping;
      } catch (e) {
        if (stopping) {
          status.textContent = "Stopped before the stream began: nothing was received or paid.";
          return;
        }
        const err = e instanceof ConnectError ? e : null;
        status.textContent = err ? err.message : explain(e).text;
        status.className = "status error";
        retry = !!err?.transient;
      }
      if (!retry || Date.now() - since > RETRY_FOR_MS) return;
      status.textContent += ` (trying again in ${(delay / 1000).toFixed(1)} s)`;
      await sleep(delay);
      delay = Math.min(delay * 2, 2000);
      if (stopping || !main.isConnected) return;
    }
  }

  start.onclick = () => {
    const r = ready;
    if (!r) return;
    stopping = false;
    start.disabled = true;
    stop.disabled = false;
    status.className = "status";
    void run(r)
      .catch((e) => {
        status.textContent = explain(e).text;
        status.className = "status error";
      })
      .finally(() => {
        conn = null;
        stop.disabled = true;
        void section.refresh().then(() => void refreshClaimed());
      });
  };
  stop.onclick = () => {
    stopping = true;
    stop.disabled = true;
    status.textContent = "Stopping: paying for everything received…";
    conn?.stop();
  };
  // Leaving the page (another page, another wallet) ends the session
  // gracefully; while it is shown, the seller's claims are read every 2 s.
  let ticks = 0;
  const watch = setInterval(() => {
    if (!main.isConnected) {
      clearInterval(watch);
      stopping = true;
      conn?.stop();
    } else if (++ticks % 4 === 0) {
      void refreshClaimed();
      const r = ready;
      if (r) void channels().then((q) => q.channel({ channelId: r.channel.id })).then(section.update, () => undefined);
    }
  }, 500);

  main.append(
    section.el,
    h(
      "section",
      { "aria-labelledby": "live-h" },
      h("h2", { id: "live-h" }, "2. Stream"),
      h("p", { class: "hint" }, `The seller's gateway sends readings ahead of payment up to its credit window; this browser checks every chunk against the price and pays for what arrived with a voucher signed by the channel's key. Stop pays for everything received.`),
      h("div", { class: "actions" }, start, stop),
      status,
      view.el,
    ),
    h("section", { "aria-labelledby": "rate-h" }, rate),
  );
  await section.refresh();
  await refreshClaimed();
}
