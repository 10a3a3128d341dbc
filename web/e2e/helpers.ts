// Shared steps of the browser tests: the development wallet, the fee dialog,
// screenshots, and the chain (CosmJS) for waiting on the chain's clock and
// for the oracles, who attest from the test and not from the browser.
import { expect, type Page } from "@playwright/test";
import { readFileSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { SigningCosmWasmClient } from "@cosmjs/cosmwasm";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { GasPrice } from "@cosmjs/stargate";

const netDir = process.env.WEVALUE_LOCALNET_DIR ?? resolve(process.cwd(), "../.localnet");
export const net = JSON.parse(readFileSync(resolve(netDir, "localnet.json"), "utf8"));
export const deploy = JSON.parse(readFileSync(resolve(netDir, "web-deploy.json"), "utf8"));
const actors: { name: string; mnemonic: string; address: string }[] = JSON.parse(
  readFileSync(resolve(process.cwd(), "..", net.accounts), "utf8"),
).actors;
export const mnemonicOf = (name: string): string => {
  const a = actors.find((x) => x.name === name);
  if (!a) throw new Error(`no actor ${name}`);
  return a.mnemonic;
};
export const addressOf = (name: string): string => {
  const a = actors.find((x) => x.name === name);
  if (!a) throw new Error(`no actor ${name}`);
  return a.address;
};
const shots = resolve(process.env.WEVALUE_WEB_TARGET ?? "../target", "web-screenshots");
mkdirSync(shots, { recursive: true });

/** Opens the app and waits for its first render. */
export async function open(page: Page, hash = ""): Promise<void> {
  await page.goto(`./${hash}`);
  await expect(page.locator("body[data-ready=true]")).toBeVisible();
}

/** Signs in with the development wallet as a test actor (disconnecting whoever was signed in). */
export async function useAccount(page: Page, name: string): Promise<void> {
  const disconnect = page.getByRole("button", { name: "Disconnect" });
  if (await disconnect.isVisible()) await disconnect.click();
  const panel = page.locator("details.devwallet");
  if ((await panel.getAttribute("open")) === null) await panel.locator("summary").click();
  await page.getByLabel("Test account").selectOption(name);
  await page.getByRole("button", { name: "Use this test account" }).click();
  await expect(page.locator(".wallet .badge")).toHaveText(`Development wallet: ${name}`);
  await expect(page.getByTestId("address")).toHaveAttribute("title", addressOf(name));
}

/** Waits for the fee dialog, checks it shows a fee in the chain's denom, and signs. */
export async function sign(page: Page): Promise<void> {
  const dlg = page.getByTestId("fee-dialog");
  await expect(dlg).toBeVisible();
  await expect(dlg.getByTestId("fee-amount")).toContainText(net.chains.city.denom);
  // The dialog takes the keyboard focus on its sign button: Enter signs.
  await expect(dlg.getByRole("button", { name: "Sign and send" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(dlg).toBeHidden();
}

/** Every visible form control has an accessible name, and every button a text or label. */
export async function expectLabelled(page: Page): Promise<void> {
  const unnamed = await page.evaluate(() => {
    const visible = (e: Element) => (e as HTMLElement).offsetParent !== null;
    const named = (e: Element) =>
      (e as HTMLInputElement).labels?.length ||
      e.getAttribute("aria-label") ||
      e.getAttribute("aria-labelledby") ||
      (e.tagName === "BUTTON" && e.textContent?.trim());
    return [...document.querySelectorAll("input, select, textarea, button")]
      .filter((e) => visible(e) && !named(e))
      .map((e) => e.outerHTML.slice(0, 80));
  });
  expect(unnamed).toEqual([]);
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: resolve(shots, `${name}.png`), fullPage: true });
}

const city = net.chains.city;
export async function chainClient(name: string): Promise<{ address: string; client: SigningCosmWasmClient }> {
  const a = actors.find((x) => x.name === name);
  if (!a) throw new Error(`no actor ${name}`);
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(a.mnemonic, { prefix: "wasm" });
  const client = await SigningCosmWasmClient.connectWithSigner(city.rpc, wallet, {
    gasPrice: GasPrice.fromString(city.gas_price),
    broadcastPollIntervalMs: 300,
  });
  return { address: a.address, client };
}

/** A cosmwasm Timestamp (ns string) in unix seconds. */
export const secs = (ts: string): number => Number(BigInt(ts) / 1_000_000n) / 1000;

/** Waits until the chain's latest block time is past `unix` (the chain's clock is the one that counts). */
export async function waitChainTime(client: SigningCosmWasmClient, unix: number): Promise<void> {
  const giveUp = Date.now() + (Math.max(0, unix - Date.now() / 1000) + 60) * 1000;
  while (Date.now() < giveUp) {
    const b = await client.getBlock();
    if (Date.parse(b.header.time) / 1000 > unix) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the chain's clock did not pass ${unix}`);
}
