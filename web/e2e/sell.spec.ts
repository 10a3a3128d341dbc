// Sell: a listing with a bad CID is refused at the CID field, then created
// with a good one; edit, pause, resume, retire; the seller's channel income.
import { test, expect } from "@playwright/test";
import { open, shot, sign, useAccount, expectLabelled } from "./helpers";

const GOOD_CID = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";

test("create a listing: bad CID shown at its field, then a good one; edit, pause, resume, retire", async ({ page }) => {
  await open(page, "#/sell");
  await useAccount(page, "meter-seller");
  await expect(page.getByTestId("seller-curation")).toContainText("You are a curated seller");
  await expectLabelled(page);
  const form = page.locator("form.listing-form");
  await form.getByLabel("Title").fill("Noise at Piazza Vittorio");
  await form.getByLabel("Description").fill("A-weighted noise level every second");
  await form.getByLabel("Category").fill("noise");
  await form.getByLabel("Sensor type").fill("dba");
  await form.getByLabel("Unit", { exact: true }).fill("dB");
  await form.getByLabel("Latitude").fill("45.0650");
  await form.getByLabel("Longitude").fill("7.6950");
  await form.getByLabel("Price per unit").fill("7");
  await form.getByLabel("Metadata (IPFS CID)").fill("not-a-cid");
  await form.getByLabel("Stream endpoint (SDPP)").fill("ws://127.0.0.1:9000/sdpp/noise-vittorio");
  await form.getByLabel("Licence").fill("CC-BY-4.0");
  await form.getByLabel("Terms (sha256, 64 hex digits)").fill("ab".repeat(32));
  await form.getByRole("button", { name: "Create listing" }).click();

  // The simulation fails, so nothing is signed: the error sits at the CID field.
  const cid = form.getByLabel("Metadata (IPFS CID)");
  await expect(cid).toHaveAttribute("aria-invalid", "true");
  const errId = (await cid.getAttribute("aria-describedby"))!.split(" ").pop()!;
  await expect(page.locator(`[id="${errId}"]`)).toContainText("“not-a-cid” is not a valid IPFS content id");
  await expect(page.getByTestId("fee-dialog")).toHaveCount(0);
  await shot(page, "sell-bad-cid");

  await cid.fill(GOOD_CID);
  await form.getByRole("button", { name: "Create listing" }).click();
  await sign(page);
  const created = page.getByText(/Listing #(\d+) created\./).first();
  await expect(created).toBeVisible();
  await expect(cid).not.toHaveAttribute("aria-invalid", "true");
  const id = Number(/#(\d+)/.exec((await created.textContent()) ?? "")![1]);

  // The seller's listings: pause and resume.
  const mine = page.getByRole("list", { name: "Your listings" }).locator(`li[data-listing="${id}"]`);
  await expect(mine).toContainText("active");
  await mine.getByRole("button", { name: "Pause" }).click();
  await sign(page);
  await expect(page.getByRole("list", { name: "Your listings" }).locator(`li[data-listing="${id}"]`)).toContainText("paused");
  await page.getByRole("list", { name: "Your listings" }).locator(`li[data-listing="${id}"]`).getByRole("button", { name: "Resume" }).click();
  await sign(page);
  await expect(page.getByRole("list", { name: "Your listings" }).locator(`li[data-listing="${id}"]`)).toContainText("active");
  await shot(page, "sell");

  // Edit: a new price (update_listing sends only what changed), and a bad endpoint refused at its field.
  await open(page, `#/sell/${id}`);
  const edit = page.locator("form.listing-form");
  await expect(edit.getByLabel("Title")).toHaveValue("Noise at Piazza Vittorio");
  await edit.getByLabel("Stream endpoint (SDPP)").fill("ftp://example.org/x");
  await edit.getByRole("button", { name: `Save changes to #${id}` }).click();
  await expect(edit.getByLabel("Stream endpoint (SDPP)")).toHaveAttribute("aria-invalid", "true");
  await edit.getByLabel("Stream endpoint (SDPP)").fill("ws://127.0.0.1:9000/sdpp/noise-vittorio");
  await edit.getByLabel("Price per unit").fill("9");
  await edit.getByRole("button", { name: `Save changes to #${id}` }).click();
  await sign(page);
  await expect(page).toHaveURL(new RegExp(`#/listing/${id}$`));
  await expect(page.getByText("9 ustake per message")).toBeVisible();

  // Retire.
  await open(page, "#/sell");
  await page.getByRole("list", { name: "Your listings" }).locator(`li[data-listing="${id}"]`).getByRole("button", { name: "Retire" }).click();
  await sign(page);
  await expect(page.getByRole("list", { name: "Your listings" }).locator(`li[data-listing="${id}"]`)).toContainText("retired");
});

test("the seller sees the channel paying them and the settled income", async ({ page }) => {
  await open(page, "#/sell");
  await useAccount(page, "air-seller");
  await expect(page.getByTestId("income")).toHaveText("Settled income on the channels shown: 2,000 ustake.");
  await expect(page.locator("tbody tr")).toHaveCount(1);
  await expect(page.locator("tbody tr").first()).toContainText("50,000 ustake");
});
