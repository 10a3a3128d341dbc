/** The dialog that shows a transaction's fee (and attached funds) before anything is signed. */

import type { StdFee } from "@cosmjs/stargate";
import { h } from "./dom";
import { amount, short } from "./format";
import { config } from "./config";

export interface FeeRequest {
  action: string;
  contract: string;
  funds: readonly { denom: string; amount: string }[];
  fee: StdFee;
}

const CONTRACT_NAMES: Record<string, string> = {
  data_registry: "data registry",
  token_curated_registry: "curation registry",
  payment_channel: "payment channels",
  value_contract: "value contract",
};

function contractName(addr: string): string {
  const entry = Object.entries(config().contracts).find(([, a]) => a === addr);
  return entry ? CONTRACT_NAMES[entry[0]] ?? entry[0] : short(addr);
}

/** Resolves true when the user chooses to sign, false when they cancel (Escape included). */
export function confirmFee(req: FeeRequest): Promise<boolean> {
  return new Promise((resolve) => {
    const fee = req.fee.amount.map((c) => amount(c.amount, c.denom)).join(" + ") || "no fee";
    const funds = req.funds.length ? req.funds.map((c) => amount(c.amount, c.denom)).join(" + ") : "nothing";
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      dlg.close();
      dlg.remove();
      resolve(ok);
    };
    const sign = h("button", { type: "button", class: "primary", onclick: () => finish(true) }, "Sign and send");
    const dlg = h(
      "dialog",
      { class: "fee", "aria-labelledby": "fee-title", "data-testid": "fee-dialog" },
      h("h2", { id: "fee-title" }, "Confirm transaction"),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Action"), h("dd", {}, req.action.replace(/_/g, " ")),
        h("dt", {}, "Contract"), h("dd", {}, contractName(req.contract)),
        h("dt", {}, "Attached funds"), h("dd", { "data-testid": "fee-funds" }, funds),
        h("dt", {}, "Network fee"), h("dd", { "data-testid": "fee-amount" }, `${fee} (gas limit ${Number(req.fee.gas).toLocaleString("en-US")})`),
      ),
      h("p", { class: "hint" }, "The gas limit is the simulated gas × 1.5; unused gas is not refunded on this chain."),
      h("div", { class: "actions" }, sign, h("button", { type: "button", onclick: () => finish(false) }, "Cancel")),
    );
    dlg.addEventListener("cancel", () => finish(false));
    document.body.appendChild(dlg);
    dlg.showModal();
    sign.focus();
  });
}
