// Marketplace: search by category, page through (start_after/limit), a
// price range, a place picked on the offline map, and a listing's detail.
import { test, expect } from "@playwright/test";
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { open, shot, deploy, addressOf, expectLabelled } from "./helpers";

test("search by category and page through, by price range, by place; see a listing", async ({ page }) => {
  await open(page, "#/market");
  // Time to first render (header and page drawn, config and chain read) and to the first results, from navigation start.
  await page.locator("li.card").first().waitFor();
  const times = await page.evaluate(() => ({
    render: performance.getEntriesByName("wevalue-first-render")[0]?.startTime ?? NaN,
    results: performance.now(),
  }));
  const line = `first render ${Math.round(times.render)} ms, first results ${Math.round(times.results)} ms (cold cache, localnet)`;
  console.log(`web: ${line}`);
  writeFileSync(resolve(process.env.WEVALUE_WEB_TARGET ?? "../target", "web-first-render.txt"), `${line}\n`);
  expect(times.render).toBeGreaterThan(0);
  const cards = page.getByRole("list", { name: "Search results" }).locator("li.card");
  const form = page.getByRole("search", { name: "Search listings" });

  // 12 air-quality listings, cheapest first, 5 a page.
  await form.getByLabel("Category").fill("air-quality");
  await form.getByLabel("Results per page").selectOption("5");
  await form.getByRole("button", { name: "Search" }).click();
  await expect(cards).toHaveCount(5);
  await expectLabelled(page);
  await expect(cards.first()).toContainText("10 ustake per message");
  await expect(cards.nth(4)).toContainText("30 ustake per message");
  await page.getByRole("button", { name: "Next page" }).click();
  await expect(cards).toHaveCount(10);
  await expect(cards.nth(5)).toContainText("35 ustake");
  await page.getByRole("button", { name: "Next page" }).click();
  await expect(cards).toHaveCount(12);
  await expect(page.getByRole("button", { name: "Next page" })).toBeHidden();
  await expect(page.getByText("12 shown (all)")).toBeVisible();
  const ids = await cards.evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-listing"))));
  expect(new Set(ids).size).toBe(12);
  expect(ids.sort((a, b) => a - b)).toEqual([...deploy.seeded.air_listings].sort((a: number, b: number) => a - b));

  // A price range: 20 to 40 per message is 20, 25, 30, 35, 40.
  await form.getByLabel("Lowest price per unit").fill("20");
  await form.getByLabel("Highest price per unit").fill("40");
  await form.getByLabel("Results per page").selectOption("10");
  await form.getByRole("button", { name: "Search" }).click();
  await expect(cards).toHaveCount(5);
  for (const [i, p] of [20, 25, 30, 35, 40].entries()) await expect(cards.nth(i)).toContainText(`${p} ustake per message`);
  await shot(page, "market-price-range");

  // A place: drill into Turin's cells on the map (keyboard for the last one).
  await form.getByLabel("Lowest price per unit").fill("");
  await form.getByLabel("Highest price per unit").fill("");
  await form.getByLabel("Category").fill("");
  for (const c of ["u", "u0", "u0j", "u0j2"]) await page.locator(`[data-cell="${c}"]`).click();
  await page.locator('[data-cell="u0j2q"]').focus();
  await page.keyboard.press("Enter");
  await expect(form.getByLabel("Place (geohash cell)")).toHaveValue("u0j2q");
  await form.getByLabel("Results per page").selectOption("30");
  await form.getByRole("button", { name: "Search" }).click();
  // 8 air-quality and 2 noise listings lie in u0j2q (Porta Nuova, San Salvario, Crocetta, Aurora).
  await expect(cards).toHaveCount(10);
  await form.getByLabel("Category").fill("noise");
  await form.getByRole("button", { name: "Search" }).click();
  await expect(cards).toHaveCount(2);
  await expect(page.locator("svg.map .pin")).not.toHaveCount(0);
  await shot(page, "market-place");

  // A bad cell is refused at the field, before any query.
  await form.getByLabel("Place (geohash cell)").fill("u0a");
  await form.getByRole("button", { name: "Search" }).click();
  await expect(form.getByLabel("Place (geohash cell)")).toHaveAttribute("aria-invalid", "true");

  // The first air listing: seller, curation, reputation, price model, terms, the buyer's rating.
  await open(page, `#/listing/${deploy.seeded.air_listings[0]}`);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("PM2.5 at Porta Nuova");
  await expect(page.getByText(addressOf("air-seller"), { exact: true })).toBeVisible();
  await expect(page.getByTestId("curation")).toContainText("curated: listed since");
  await expect(page.getByText("CC-BY-4.0")).toBeVisible();
  await expect(page.getByText(/^\d+(\.\d)?% \(stake \d+(\.\d)?% of 40%, tenure \d+(\.\d)?% of 30%, challenges survived 0% of 30%\)$/)).toBeVisible();
  await expect(page.getByRole("list", { name: "Ratings" })).toContainText("★ 4 by");
  await shot(page, "listing");
});
