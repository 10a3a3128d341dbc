// The Keplr path: a stand-in for the extension is injected into the page
// (window.keplr with Keplr's API; its keys stay in the test process, which
// signs through an exposed function). The app must suggest the chain,
// enable it, take the account, and have the wallet sign a transaction.
import { test, expect } from "@playwright/test";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { fromBase64, toBase64 } from "@cosmjs/encoding";
import { open, sign, net, mnemonicOf } from "./helpers";

interface WireDoc {
  bodyBytes: string;
  authInfoBytes: string;
  chainId: string;
  accountNumber: string;
}

test("a Keplr-compatible wallet: chain suggested, enabled, and it signs", async ({ page }) => {
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(mnemonicOf("test-05"), { prefix: "wasm" });
  const [account] = await wallet.getAccounts();
  const suggested: Record<string, unknown>[] = [];
  const signed: string[] = [];
  await page.exposeFunction("__keplrSuggest", (info: Record<string, unknown>) => void suggested.push(info));
  await page.exposeFunction("__keplrSign", async (signer: string, d: WireDoc) => {
    signed.push(signer);
    const res = await wallet.signDirect(signer, {
      bodyBytes: fromBase64(d.bodyBytes),
      authInfoBytes: fromBase64(d.authInfoBytes),
      chainId: d.chainId,
      accountNumber: BigInt(d.accountNumber),
    });
    return {
      signed: { bodyBytes: toBase64(res.signed.bodyBytes), authInfoBytes: toBase64(res.signed.authInfoBytes), chainId: res.signed.chainId, accountNumber: res.signed.accountNumber.toString() },
      signature: res.signature,
    };
  });
  await page.addInitScript(
    ({ address, pubkey }) => {
      const b64 = (u: Uint8Array) => btoa(String.fromCharCode(...u));
      const unb64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
      const w = window as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      (window as unknown as { keplr: unknown }).keplr = {
        experimentalSuggestChain: (info: unknown) => w.__keplrSuggest(info),
        enable: async () => undefined,
        getKey: async () => ({ name: "stand-in", bech32Address: address }),
        getOfflineSigner: () => ({
          getAccounts: async () => [{ address, algo: "secp256k1", pubkey: unb64(pubkey) }],
          signDirect: async (signer: string, doc: { bodyBytes: Uint8Array; authInfoBytes: Uint8Array; chainId: string; accountNumber: bigint }) => {
            const r = (await w.__keplrSign(signer, {
              bodyBytes: b64(doc.bodyBytes),
              authInfoBytes: b64(doc.authInfoBytes),
              chainId: doc.chainId,
              accountNumber: doc.accountNumber.toString(),
            })) as { signed: { bodyBytes: string; authInfoBytes: string; chainId: string; accountNumber: string }; signature: unknown };
            return {
              signed: { bodyBytes: unb64(r.signed.bodyBytes), authInfoBytes: unb64(r.signed.authInfoBytes), chainId: r.signed.chainId, accountNumber: BigInt(r.signed.accountNumber) },
              signature: r.signature,
            };
          },
        }),
      };
    },
    { address: account.address, pubkey: toBase64(account.pubkey) },
  );

  await open(page, "#/curate");
  await page.getByRole("button", { name: "Connect Keplr" }).click();
  await expect(page.locator(".wallet .badge")).toHaveText("Keplr: stand-in");
  expect(suggested).toHaveLength(1);
  expect(suggested[0]).toMatchObject({
    chainId: net.chains.city.chain_id,
    rpc: net.chains.city.rpc,
    bech32Config: { bech32PrefixAccAddr: "wasm" },
    feeCurrencies: [{ coinMinimalDenom: net.chains.city.denom }],
    features: ["cosmwasm"],
  });

  // A transaction signed by the wallet.
  await page.getByLabel("Voting tokens to deposit").fill("1000");
  await page.getByRole("button", { name: "Deposit voting tokens" }).click();
  await sign(page);
  await expect(page.getByTestId("voter")).toContainText("Your voting balance: 1,000 ustake");
  expect(signed).toEqual([account.address]);
});
