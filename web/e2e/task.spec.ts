// A city task from a template to a claimed reward: preview, create, sponsor,
// offer, confirm with a bond, the oracles attest (all 3 of a 2-quorum set, from the test
// through CosmJS), the dispute window passes, the participant claims.
import { test, expect } from "@playwright/test";
import { open, shot, sign, useAccount, chainClient, waitChainTime, secs, addressOf, deploy, expectLabelled } from "./helpers";

const CID = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";

test("a task from template to claimed reward; another's sponsor refunded", async ({ page }) => {
  const vc = deploy.contracts.value_contract;
  const chain = await chainClient("deployer");
  // A second task that will miss its funding goal, made from the test: its sponsor takes the contribution back at the end.
  const brand = await chainClient("brand");
  const made = await brand.client.execute(brand.address, vc, {
    create_task: { template_id: 1, params: { title: "Bike racks for Aurora", description_cid: CID, asset: { native: "ustake" }, funding_goal: "900000", target: "0", max_participants: 2, bond: "1000", durations: {} } },
  }, "auto");
  const failing = Number(made.events.flatMap((e) => e.attributes).find((a) => a.key === "task_id")!.value);
  await brand.client.execute(brand.address, vc, { contribute: { task_id: failing } }, "auto", undefined, [{ denom: "ustake", amount: "5000" }]);
  await open(page, "#/tasks");
  await useAccount(page, "utility");
  await expectLabelled(page);

  // Template, preview (an error first: a zero funding goal, shown at its field), create.
  await page.locator("li[data-template]").first().getByRole("button", { name: "Use this template" }).click();
  await page.getByLabel("Title").fill("San Salvario saves energy");
  await page.getByLabel("Description (IPFS CID)").fill(CID);
  await page.getByLabel("Funding goal").fill("0");
  await page.getByLabel("Participants at most").fill("1");
  await page.getByLabel("Participant's bond").fill("1000");
  await page.getByRole("button", { name: "Preview" }).click();
  await expect(page.getByLabel("Funding goal")).toHaveAttribute("aria-invalid", "true");
  await page.getByLabel("Funding goal").fill("100000");
  await page.getByRole("button", { name: "Preview" }).click();
  await expect(page.getByTestId("preview")).toContainText("Funding until");
  await shot(page, "task-preview");
  await page.getByRole("button", { name: "Create task" }).click();
  await sign(page);
  await expect(page).toHaveURL(/#\/task\/\d+$/);
  const id = Number(/#\/task\/(\d+)$/.exec(page.url())![1]);
  await expect(page.getByTestId("task-status")).toContainText("funding");

  // The sponsor funds the goal (the task stays in funding until its deadline).
  await page.getByLabel("Contribution").fill("100000");
  await page.getByRole("button", { name: "Sponsor" }).click();
  await sign(page);
  await expect(page.locator("dl.facts")).toContainText("100,000 ustake of 100,000 ustake by 1 sponsors");

  // A household offers.
  await useAccount(page, "house-1");
  await page.getByRole("button", { name: /^Make an offer/ }).click();
  await sign(page);
  await expect(page.getByRole("table").first().locator("tbody tr")).toHaveCount(1);

  // After the matching deadline the offer is matched; the household confirms with its bond.
  let t = await chain.client.queryContractSmart(vc, { task: { id } });
  await waitChainTime(chain.client, secs(t.terms.matching_deadline));
  // The matching is decided by the next transaction on the task: anyone may advance it.
  await page.getByRole("button", { name: "Refresh" }).click();
  await expect(page.getByTestId("task-status")).toContainText("matching (a transition is due");
  await page.getByRole("button", { name: "Advance the task" }).click();
  await sign(page);
  await expect(page.getByTestId("task-status")).toContainText("accepting");
  await page.getByRole("button", { name: "Confirm with a bond of 1,000 ustake" }).click();
  await sign(page);
  await expect(page.getByTestId("task-status")).toContainText("executing");
  await expect(page.locator('.timeline li[aria-current="step"]')).toHaveAttribute("data-step", "executing");

  // After execution the three oracles attest the household's value (with a quorum of 2, accepting
  // before the verification deadline takes 2k − 1 = 3 agreeing attestations).
  t = await chain.client.queryContractSmart(vc, { task: { id } });
  await waitChainTime(chain.client, secs(t.terms.execution_deadline));
  const values = [{ participant: addressOf("house-1"), value: "4000" }];
  for (const oracle of ["city", "oracle-2", "oracle-3"]) {
    const o = await chainClient(oracle);
    await o.client.execute(o.address, vc, { attest: { task_id: id, values, evidence_cid: CID } }, "auto");
    o.client.disconnect();
  }
  await page.getByRole("button", { name: "Refresh" }).click();
  await expect(page.getByTestId("task-status")).toContainText("disputable");
  await expect(page.getByTestId("attestations")).toContainText("accepted 4,000 Wh");
  await expect(page.getByTestId("attestations").locator("li")).toHaveCount(3);
  await shot(page, "task-attested");

  // After the dispute window: the whole funded reward and the bond back.
  t = await chain.client.queryContractSmart(vc, { task: { id } });
  await waitChainTime(chain.client, secs(t.dispute_start) + t.terms.dispute_secs);
  await page.getByRole("button", { name: "Refresh" }).click();
  const before = BigInt((await chain.client.getBalance(addressOf("house-1"), "ustake")).amount);
  await page.getByRole("button", { name: "Claim 100,000 ustake reward + 1,000 ustake bond" }).click();
  await sign(page);
  await expect(page.getByText("Claimed 100,000 ustake reward and 1,000 ustake bond.").first()).toBeVisible();
  const after = BigInt((await chain.client.getBalance(addressOf("house-1"), "ustake")).amount);
  // 101,000 in, minus the claim's fee (at most 1.5 × a few hundred thousand gas × 0.025).
  expect(after - before).toBeGreaterThan(101_000n - 20_000n);
  expect(after - before).toBeLessThan(101_000n);
  await expect(page.getByTestId("task-status")).toContainText("settled");
  await shot(page, "task-settled");
  // The sponsor has nothing to take back: every unit of value was rewarded.
  const c = await chain.client.queryContractSmart(vc, { claimable: { task_id: id, address: addressOf("utility") } });
  expect(c.refund).toBe("0");

  // The other task missed its goal: its sponsor takes back the 5,000 on the page.
  await open(page, `#/task/${failing}`);
  await useAccount(page, "brand");
  await expect(page.getByTestId("task-status")).toContainText("funding_failed");
  await expect(page.getByText("The funding goal was not met by the deadline")).toBeVisible();
  await page.getByRole("button", { name: "Take back 5,000 ustake (refund)" }).click();
  await sign(page);
  await expect(page.getByText("Refunded 5,000 ustake.").first()).toBeVisible();
  const after2 = await chain.client.queryContractSmart(vc, { contribution: { task_id: failing, sponsor: brand.address } });
  expect(after2.refunded).toBe(true);
  brand.client.disconnect();
  chain.client.disconnect();
});
