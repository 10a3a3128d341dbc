/** The header's wallet panel: connect Keplr, or (localnet) the clearly marked development wallet; shows the account and balance. */

import { config } from "./config";
import { h, mount, uid } from "./dom";
import { explain } from "./errors";
import { amount, short } from "./format";
import { chain, connectDev, connectKeplr, current, disconnect, injectedWallet, onWalletChange } from "./wallet";

export function walletBox(box: HTMLElement): void {
  const draw = () => {
    const s = current();
    if (s) {
      const bal = h("span", { class: "balance", "data-testid": "balance" }, "…");
      mount(
        box,
        h("span", { class: s.kind === "dev" ? "badge dev" : "badge" }, s.label),
        h("code", { title: s.address, "data-testid": "address" }, short(s.address)),
        bal,
        h("button", { type: "button", onclick: disconnect }, "Disconnect"),
      );
      void chain()
        .then((c) => c.getBalance(s.address, config().chain.denom))
        .then((b) => (bal.textContent = amount(b.amount, b.denom)))
        .catch(() => (bal.textContent = "balance unknown"));
      return;
    }
    const status = h("span", { class: "status", role: "status" });
    const fail = (e: unknown) => {
      status.textContent = explain(e).text;
      status.className = "status error";
    };
    const keplr = injectedWallet()
      ? h("button", { type: "button", onclick: () => void connectKeplr().catch(fail) }, "Connect Keplr")
      : h("span", { class: "hint" }, "No Keplr-compatible wallet in this browser.");
    const dev = config().dev_accounts;
    let devUi: HTMLElement | null = null;
    if (dev && dev.length) {
      const sel = h(
        "select",
        { id: uid("dev") },
        ...dev.map((a) => h("option", { value: a.name }, `${a.name} (${short(a.address)})`)),
        h("option", { value: "paste" }, "Paste a test mnemonic…"),
      );
      const paste = h("textarea", { id: uid("mn"), rows: 2, hidden: true, autocomplete: "off", spellcheck: "false" });
      const pasteLabel = h("label", { for: paste.id, hidden: true }, "Test mnemonic");
      sel.addEventListener("change", () => {
        paste.hidden = pasteLabel.hidden = sel.value !== "paste";
      });
      const use = () => {
        status.textContent = "Deriving the key…";
        const a = sel.value === "paste" ? { name: "pasted mnemonic", mnemonic: paste.value } : dev.find((x) => x.name === sel.value) ?? dev[0];
        void connectDev(a.name, a.mnemonic).then(() => undefined, fail);
      };
      devUi = h(
        "details",
        { class: "devwallet" },
        h("summary", {}, "Development wallet"),
        h(
          "div",
          { role: "group", "aria-label": "Development wallet" },
          h("p", { class: "warn" }, "TEST KEYS ONLY. These mnemonics are public localnet accounts: never use them with real funds. The key is kept in this page's memory and forgotten on reload."),
          h("label", { for: sel.id }, "Test account"),
          sel,
          pasteLabel,
          paste,
          h("button", { type: "button", onclick: use }, "Use this test account"),
        ),
      );
    }
    mount(box, keplr, devUi, status);
  };
  onWalletChange(draw);
  draw();
}
