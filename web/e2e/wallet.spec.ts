// The development wallet with a pasted test mnemonic, and the fee dialog's
// Cancel: nothing is signed or sent, and the page says so.
import { test, expect } from "@playwright/test";
import { open, mnemonicOf, addressOf, chainClient, net } from "./helpers";

test("a pasted test mnemonic; cancelling the fee dialog sends nothing", async ({ page }) => {
  await open(page, "#/curate");
  await page.locator("details.devwallet summary").click();
  await expect(page.getByText("TEST KEYS ONLY")).toBeVisible();
  await page.getByLabel("Test account").selectOption("paste");
  await page.getByLabel("Test mnemonic").fill(mnemonicOf("test-06"));
  await page.getByRole("button", { name: "Use this test account" }).click();
  await expect(page.locator(".wallet .badge")).toHaveText("Development wallet: pasted mnemonic");
  await expect(page.getByTestId("address")).toHaveAttribute("title", addressOf("test-06"));

  const chain = await chainClient("deployer");
  const before = await chain.client.getBalance(addressOf("test-06"), net.chains.city.denom);
  const sent: string[] = [];
  page.on("request", (r) => {
    if (r.postData()?.includes("broadcast_tx")) sent.push(r.url());
  });
  await page.getByLabel("Voting tokens to deposit").fill("5000");
  await page.getByRole("button", { name: "Deposit voting tokens" }).click();
  const dlg = page.getByTestId("fee-dialog");
  await expect(dlg.getByTestId("fee-funds")).toHaveText("5,000 ustake");
  await dlg.getByRole("button", { name: "Cancel" }).click();
  await expect(dlg).toBeHidden();
  await expect(page.getByText("Cancelled: nothing was signed.")).toBeVisible();
  // Escape closes it the same way.
  await page.getByRole("button", { name: "Deposit voting tokens" }).click();
  await expect(dlg).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(dlg).toBeHidden();
  expect(sent).toEqual([]);
  expect(await chain.client.getBalance(addressOf("test-06"), net.chains.city.denom)).toEqual(before);
  await expect(page.getByTestId("voter")).not.toContainText("5,000");
  chain.client.disconnect();
});
