// Buy a stream against a real seller: `relayer run` (ci/web-test.sh starts it)
// serves one listing through its SDPP gateway from a simulated PM2.5 sensor
// (a reading every 250 ms) and keeps the vouchers in its watchtower, which
// claims them on chain. The browser opens a channel registering a key it
// made itself (the only wallet signature), streams — the rows arrive, the
// paid amount grows, no other signature is asked for — stops, is reloaded
// and resumes the same stream on the same channel, then rates the listing.
// Every figure is checked against the seller's watchtower and the chain.
import { test, expect, type Page } from "@playwright/test";
import { open, shot, sign, useAccount, deploy, chainClient, addressOf, expectLabelled } from "./helpers";

const s = deploy.seeded.stream as { listing: number; price: string; watchtower: string };
const price = BigInt(s.price);
const DEPOSIT = price * 200n;

const figure = async (page: Page, id: string): Promise<bigint> => BigInt(((await page.getByTestId(id).textContent()) ?? "").replace(/,/g, ""));
const rows = (page: Page) => page.getByTestId("rows-table").locator("tbody tr");
const seqs = (page: Page) => rows(page).evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute("data-seq"))));

/** The seller's watchtower: the best voucher it stored for the channel. */
async function stored(channel: number): Promise<bigint | null> {
  const res = await fetch(`${s.watchtower}/v1/channels/${channel}`);
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`watchtower: HTTP ${res.status} ${await res.text()}`);
  return BigInt(((await res.json()) as { best: { amount: string } }).best.amount);
}

/** Counts fee dialogs (wallet signatures) from now on. */
const countDialogs = (page: Page) =>
  page.evaluate(() => {
    const w = window as unknown as { feeDialogs: number };
    w.feeDialogs = 0;
    new MutationObserver((ms) => ms.forEach((m) => m.addedNodes.forEach((n) => n instanceof HTMLDialogElement && (w.feeDialogs += 1)))).observe(document.body, { childList: true });
  });
const dialogs = (page: Page) => page.evaluate(() => (window as unknown as { feeDialogs: number }).feeDialogs);

/** Streams until at least `n` rows are shown, checking the paid amount grows on the way; then Stop. */
async function streamRows(page: Page, n: number, whileStreaming?: () => Promise<void>): Promise<void> {
  const status = page.getByTestId("stream-status");
  await page.getByRole("button", { name: "Start streaming" }).click();
  await expect(status).toContainText("Streaming: offer accepted (terms CC-BY-4.0, 15 ustake per message)");
  // The first voucher goes out at half the seller's credit window (5 readings × 15).
  await expect.poll(() => figure(page, "paid"), { timeout: 30_000 }).toBeGreaterThanOrEqual(75n);
  const early = await figure(page, "paid");
  await expect.poll(() => rows(page).count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(n);
  expect(await figure(page, "paid")).toBeGreaterThan(early);
  await expect(page.getByTestId("credit")).toHaveText("150 ustake ahead of payment, up to 3,000 in all this session");
  await whileStreaming?.();
  await page.getByRole("button", { name: "Stop" }).click();
  await expect(status).toHaveText("Stopped: everything received is paid.");
}

test("buy a stream: a browser-made voucher key, live rows and payments, stop, resume after a reload, rate", async ({ page }) => {
  const pc = deploy.contracts.payment_channel;
  const { client } = await chainClient("house-2");
  // What earlier runs on this chain paid for the listing (nothing on a fresh localnet).
  const paidForListing = async (): Promise<bigint> =>
    ((await client.queryContractSmart(pc, { paid_for_listing: { payer: addressOf("house-2"), payee: addressOf("air-seller"), registry: deploy.contracts.data_registry, listing_id: s.listing } })).paid as { amount: string }[])
      .reduce((sum, a) => sum + BigInt(a.amount), 0n);
  const before = await paidForListing();
  await open(page, `#/listing/${s.listing}`);
  await page.getByRole("link", { name: "Buy this stream" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Buy a stream: PM2.5 at San Salvario");
  await expect(page.getByText("Connect a wallet (top right) to open a payment channel and stream.")).toBeVisible();
  await useAccount(page, "house-2");

  // No channel yet: open one for 200 readings. The wallet signs this transaction only.
  await expect(page.getByLabel("Deposit (ustake)")).toHaveValue(DEPOSIT.toString());
  await expectLabelled(page);
  await page.getByRole("button", { name: "Open a channel" }).click();
  await expect(page.getByTestId("fee-funds")).toHaveText("3,000 ustake");
  await sign(page);
  const card = page.getByTestId("channel");
  await expect(card).toBeVisible();
  const id = Number(await card.getAttribute("data-channel"));
  const onChain = await client.queryContractSmart(pc, { channel: { channel_id: id } });
  expect(onChain).toMatchObject({ payer: addressOf("house-2"), payee: addressOf("air-seller"), deposit: "3000", scheme: "ed25519", status: "open", listing: { listing_id: s.listing } });
  // The registered key is the browser's own: 32 bytes, and not extractable from the page.
  expect(Buffer.from(onChain.pubkey, "base64")).toHaveLength(32);
  await expect(card).toContainText("WebCrypto ed25519; it signs here and cannot be read out");
  await countDialogs(page);

  await streamRows(page, 24, () => shot(page, "stream-live"));
  const first = await rows(page).count();
  expect(first).toBeGreaterThanOrEqual(24);
  // Units = rows shown, each chunk once and in order (newest first); paid = units × price.
  expect(await seqs(page)).toEqual(Array.from({ length: first }, (_, i) => first - i));
  expect(await figure(page, "units")).toBe(BigInt(first));
  expect(await figure(page, "rows")).toBe(BigInt(first));
  expect(await figure(page, "paid")).toBe(BigInt(first) * price);
  await expect(page.getByTestId("chart").locator("polyline")).toHaveAttribute("points", /^(\S+,\S+ ){23,}\S+,\S+$/);
  await expect(rows(page).first().locator("td").nth(4)).toContainText(`"sensor":"pm25","n":${first},`);
  expect(await dialogs(page)).toBe(0);
  // The seller's watchtower stored exactly that voucher, and claimed it on chain.
  await expect.poll(() => stored(id), { timeout: 20_000 }).toBe(BigInt(first) * price);
  await expect
    .poll(async () => (await client.queryContractSmart(pc, { channel: { channel_id: id } })).claimed, { timeout: 30_000 })
    .toBe((BigInt(first) * price).toString());
  await expect(page.getByTestId("channel-claimed")).toHaveText(`${(BigInt(first) * price).toLocaleString("en-US")} ustake`);

  // A reload: the key and the stream record are in IndexedDB; the same channel continues at the next chunk.
  await page.reload();
  await expect(page.locator("body[data-ready=true]")).toBeVisible();
  await useAccount(page, "house-2");
  await expect(page.getByTestId("channel")).toHaveAttribute("data-channel", String(id));
  await expect(page.getByTestId("units")).toHaveText(String(first));
  await countDialogs(page);
  await streamRows(page, 8);
  const second = await rows(page).count();
  expect(await seqs(page)).toEqual(Array.from({ length: second }, (_, i) => first + second - i));
  const total = BigInt(first + second);
  expect(await figure(page, "units")).toBe(total);
  expect(await figure(page, "paid")).toBe(total * price);
  expect(await figure(page, "left")).toBe(DEPOSIT - total * price);
  expect(await dialogs(page)).toBe(0);
  await expect.poll(() => stored(id), { timeout: 20_000 }).toBe(total * price);
  await expect
    .poll(async () => (await client.queryContractSmart(pc, { channel: { channel_id: id } })).claimed, { timeout: 30_000 })
    .toBe((total * price).toString());

  // Rate: the seller's claims (≥ 10 readings' worth) let this buyer rate.
  expect(await paidForListing()).toBe(before + total * price);
  await expect(page.getByTestId("claimed")).toHaveText(`${(before + total * price).toLocaleString("en-US")} ustake (a first rating needs 150 ustake)`, { timeout: 15_000 });
  await page.getByLabel("Score").selectOption("5");
  await page.getByRole("button", { name: "Rate this listing" }).click();
  await sign(page);
  await expect(page.getByText(`Rated listing #${s.listing} 5 stars.`).first()).toBeVisible();
  const rating = await client.queryContractSmart(deploy.contracts.data_registry, { rating: { id: s.listing, buyer: addressOf("house-2") } });
  expect(rating.score).toBe(5);
  await shot(page, "stream-rated");
});

test("a deposit used up: the seller stops at the limit, the page offers a top-up, the stream continues where it stopped", async ({ page }) => {
  const pc = deploy.contracts.payment_channel;
  const { client } = await chainClient("rider-4");
  await open(page, `#/stream/${s.listing}`);
  await useAccount(page, "rider-4");
  // Ten readings' worth: the seller's gateway may send no more (SDPP's limit = the deposit).
  await page.getByLabel("Deposit (ustake)").fill((price * 10n).toString());
  await page.getByRole("button", { name: "Open a channel" }).click();
  await expect(page.getByTestId("fee-funds")).toHaveText("150 ustake");
  await sign(page);
  const id = Number(await page.getByTestId("channel").getAttribute("data-channel"));
  const status = page.getByTestId("stream-status");
  const used = "The channel's deposit is used up: top up the channel, then start again to continue where the stream stopped.";

  await page.getByRole("button", { name: "Start streaming" }).click();
  await expect(status).toHaveText(used, { timeout: 30_000 });
  expect(await seqs(page)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
  expect(await figure(page, "paid")).toBe(150n);
  expect(await figure(page, "left")).toBe(0n);
  await expect(page.getByTestId("channel").getByRole("status")).toHaveText("Little is left: top up to keep streaming (at 15 ustake a unit).");
  await shot(page, "stream-limit");

  await page.getByLabel("Top up by (ustake)").fill((price * 10n).toString());
  await page.getByRole("button", { name: "Top up" }).click();
  await expect(page.getByTestId("fee-funds")).toHaveText("150 ustake");
  await sign(page);
  await expect(page.getByText(`Channel #${id} topped up by 150 ustake.`).first()).toBeVisible();
  await expect(page.getByTestId("channel-deposit")).toHaveText("300 ustake");
  await page.getByRole("button", { name: "Start streaming" }).click();
  // The status still reads "used up" from the first session until the new
  // one ends, so wait for the rows, not the status.
  await expect
    .poll(() => seqs(page), { timeout: 30_000 })
    .toEqual([20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
  await expect(status).toHaveText(used, { timeout: 30_000 });
  expect(await figure(page, "units")).toBe(20n);
  expect(await figure(page, "paid")).toBe(300n);
  await expect.poll(() => stored(id), { timeout: 20_000 }).toBe(300n);
  const channel = await client.queryContractSmart(pc, { channel: { channel_id: id } });
  expect(channel.deposit).toBe("300");
});
