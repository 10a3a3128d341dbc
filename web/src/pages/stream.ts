/** Buy a stream: waits for the SDPP gateway (built on another branch); until then it says so and sends nothing. */

import { config } from "../config";
import { h, mount } from "../dom";

/**
 * The place for the buy-a-stream flow. What it will do once the gateway
 * lands: open (or reuse) a payment channel for the listing with a per-channel
 * ed25519 voucher key generated here, connect to the gateway's SDPP
 * WebSocket, sign a voucher per chunk, and chart the data as it arrives.
 * No data is shown until then: there is no fake stream.
 */
export function stream(main: HTMLElement, arg: string | undefined): void {
  const gw = config().gateway;
  mount(
    main,
    h("h1", {}, "Buy a stream"),
    arg ? h("p", {}, h("a", { href: `#/listing/${arg}` }, `← Listing #${arg}`)) : null,
    h(
      "p",
      { class: "status", role: "status", "data-testid": "stream-pending" },
      gw
        ? `A gateway is configured (${gw.url}), but this version of the app cannot speak SDPP yet.`
        : "Streams are not available yet: this deployment has no SDPP gateway configured, so no channel is opened and no data is shown.",
    ),
    h(
      "p",
      {},
      "When the gateway is available, this page opens a payment channel for the listing (or reuses yours), generates a voucher key in this browser so the wallet is asked once, and shows the data live with the units delivered and paid. After a purchase you can rate the listing on its page.",
    ),
  );
}
