// Rating: the registry lets only paying buyers rate; the refusal is shown in words.
import { test, expect } from "@playwright/test";
import { open, shot, useAccount, deploy } from "./helpers";

test("rating without a purchase is refused, in words", async ({ page }) => {
  const id = deploy.seeded.air_listings[0];
  await open(page, `#/listing/${id}`);
  await useAccount(page, "house-3");
  await page.getByLabel("Score").selectOption("2");
  await page.getByRole("button", { name: "Rate this listing" }).click();
  const alert = page.locator("form").getByRole("alert").filter({ hasText: "Only buyers can rate" });
  await expect(alert).toContainText(`Only buyers can rate: you paid 0 for listing #${id}`);
  await expect(page.getByTestId("fee-dialog")).toHaveCount(0);
  // The buyer's earlier rating is still the only one.
  await expect(page.getByRole("list", { name: "Ratings" }).locator("li")).toHaveCount(1);
  await shot(page, "rate-refused");
});
