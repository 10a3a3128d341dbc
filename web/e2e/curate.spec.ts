// Curation: apply, challenge, commit secret votes (the salt stays in the
// browser and is never sent before the reveal), reveal once the commit
// stage is over on the chain's clock, resolve, and claim the voters' reward.
import { test, expect, type Page } from "@playwright/test";
import { open, shot, sign, useAccount, chainClient, waitChainTime, secs, addressOf, deploy, expectLabelled } from "./helpers";

const CID = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";

/**
 * Whether a request body carries one of the needles, as text or inside a
 * base64 or hex blob (a broadcast tx is base64 protobuf with the contract
 * message as JSON bytes inside; a simulation is a hex abci_query).
 */
function carries(body: string, needles: string[]): boolean {
  const texts = [body];
  for (const m of body.matchAll(/"([A-Za-z0-9+/=]{24,})"/g)) {
    texts.push(Buffer.from(m[1], "base64").toString("latin1"));
    if (/^[0-9a-fA-F]+$/.test(m[1]) && m[1].length % 2 === 0) texts.push(Buffer.from(m[1], "hex").toString("latin1"));
  }
  return texts.some((t) => needles.some((n) => t.includes(n)));
}

async function depositVotingTokens(page: Page, who: string, amount: string) {
  await useAccount(page, who);
  await page.getByLabel("Voting tokens to deposit").fill(amount);
  await page.getByRole("button", { name: "Deposit voting tokens" }).click();
  await sign(page);
  await expect(page.getByTestId("voter")).toContainText(`Your voting balance: ${Number(amount).toLocaleString("en-US")} ustake`);
}

test("a TCR round: apply, challenge, commit, reveal, resolve, claim", async ({ page }) => {
  // Every request body the page sends, to prove no salt leaves before its reveal.
  const sent: string[] = [];
  page.on("request", (r) => {
    const body = r.postData();
    if (body) sent.push(body);
  });
  const applicant = addressOf("rider-1");
  await open(page, "#/curate");

  // The applicant applies with the minimum deposit.
  await useAccount(page, "rider-1");
  await expectLabelled(page);
  await page.getByLabel("Supporting data (IPFS CID)").fill(CID);
  await page.getByRole("button", { name: "Apply", exact: true }).click();
  await sign(page);
  await expect(page.locator(`li[data-subject="${applicant}"]`)).toContainText("application");

  // Two voters fund their voting balances before the challenge (the commit stage is short).
  await depositVotingTokens(page, "curator", "2000000");
  await depositVotingTokens(page, "rider-3", "1000000");

  // Another account challenges with the same stake: a poll opens.
  await useAccount(page, "rider-2");
  const card = page.locator(`li[data-subject="${applicant}"]`);
  await card.getByLabel(/Reasons for challenging/).fill(CID);
  await card.getByRole("button", { name: /^Challenge/ }).click();
  await sign(page);
  await expect(page.locator(`li[data-subject="${applicant}"]`)).toContainText("challenged: poll #");
  const pollCard = page.locator("li[data-poll]").first();
  const pollId = Number(await pollCard.getAttribute("data-poll"));
  await expect(pollCard.getByTestId("poll-phase")).toContainText("Phase: commit");

  // Secret votes: keep (2 CITY of weight) against remove (1).
  for (const [who, choice, weight] of [["curator", "keep", "2000000"], ["rider-3", "remove", "1000000"]] as const) {
    await useAccount(page, who);
    const poll = page.locator(`li[data-poll="${pollId}"]`);
    await poll.getByLabel(`Your vote in poll ${pollId}`).selectOption(choice);
    await poll.getByLabel(`Voting weight in poll ${pollId}`).fill(weight);
    await poll.getByRole("button", { name: "Commit vote" }).click();
    await sign(page);
    await expect(page.locator(`li[data-poll="${pollId}"]`)).toContainText(`Your committed vote (kept in this browser): ${choice}`);
  }
  const stored = await page.evaluate(() =>
    Object.keys(localStorage)
      .filter((k) => k.startsWith("wevalue:tcr-vote:"))
      .map((k) => ({ voter: k.split(":").pop()!, ...(JSON.parse(localStorage.getItem(k)!) as { salt: string; choice: string; commitment: string }) })),
  );
  expect(stored).toHaveLength(2);
  expect(sent.length).toBeGreaterThan(0);
  for (const { salt } of stored) {
    const needles = [salt, Buffer.from(salt, "hex").toString("base64")];
    for (const body of sent) expect(carries(body, needles)).toBe(false);
  }
  await shot(page, "curate-committed");

  // Reveal after the commit stage, on the chain's clock.
  const chain = await chainClient("deployer");
  const poll = await chain.client.queryContractSmart(deploy.contracts.token_curated_registry, { poll: { poll_id: pollId } });
  await waitChainTime(chain.client, secs(poll.commit_end));
  const beforeReveal = sent.length;
  for (const who of ["curator", "rider-3"]) {
    await useAccount(page, who);
    await page.locator(`li[data-poll="${pollId}"]`).getByRole("button", { name: "Reveal vote" }).click();
    await sign(page);
    await expect(page.getByText(new RegExp(`Vote revealed in poll #${pollId}`)).first()).toBeVisible();
  }
  await expect(page.locator(`li[data-poll="${pollId}"]`)).toContainText("revealed: keep 2,000,000 (1 voters), remove 1,000,000 (1)");
  // The browser computed the same commitment as the contract's own query (asked from the test, after the reveal).
  for (const v of stored) {
    const q = await chain.client.queryContractSmart(deploy.contracts.token_curated_registry, {
      commitment: { poll_id: pollId, voter: v.voter, choice: v.choice, salt: Buffer.from(v.salt, "hex").toString("base64") },
    });
    expect(q.commitment).toBe(v.commitment);
  }
  // The detector above is not blind: the reveals did carry the salts.
  for (const { salt } of stored) {
    const needles = [salt, Buffer.from(salt, "hex").toString("base64")];
    expect(sent.slice(beforeReveal).some((b) => carries(b, needles))).toBe(true);
  }

  // Resolve after the reveal stage; keep wins, the curator claims.
  await waitChainTime(chain.client, secs(poll.reveal_end));
  await useAccount(page, "curator");
  await page.locator(`li[data-poll="${pollId}"]`).getByRole("button", { name: "Resolve" }).click();
  await sign(page);
  await expect(page.locator(`li[data-poll="${pollId}"]`)).toContainText("outcome: keep");
  await page.locator(`li[data-poll="${pollId}"]`).getByRole("button", { name: "Claim reward" }).click();
  await sign(page);
  await expect(page.getByText(new RegExp(`Claimed [0-9,]+ ustake from poll #${pollId}`)).first()).toBeVisible();
  const listed = await chain.client.queryContractSmart(deploy.contracts.token_curated_registry, { is_listed: { subject: applicant } });
  expect(listed.listed).toBe(true);
  // A second claim is refused, in words.
  await page.locator(`li[data-poll="${pollId}"]`).getByRole("button", { name: "Claim reward" }).click();
  await expect(page.getByText(`You already claimed the reward of poll #${pollId}.`)).toBeVisible();
  await shot(page, "curate-resolved");
  chain.client.disconnect();
});
