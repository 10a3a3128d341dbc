/** Curate: apply to the TCR, challenge, commit and reveal secret votes (salt kept in localStorage, never sent before the reveal), claim rewards. */

import { toBase64, toHex, fromHex } from "@cosmjs/encoding";
import { commitment } from "../commitment";
import { config } from "../config";
import { field, h, input, select, statusLine } from "../dom";
import { coins, tcr, tcrTx } from "../clients";
import { amount, relative, secs, short, when } from "../format";
import { act, pager } from "../ui";
import { chainTime, current } from "../wallet";
import type { Choice, ListingResponse, PollResponse } from "../contracts/TokenCuratedRegistry.types";

/** A committed vote's secret, kept in this browser until it is revealed. */
interface StoredVote {
  choice: Choice;
  salt: string; // hex
  weight: string;
  commitment: string; // hex
}

const voteKey = (poll: number, voter: string) =>
  `wevalue:tcr-vote:${config().chain.chain_id}:${config().contracts.token_curated_registry}:${poll}:${voter}`;
export const loadVote = (poll: number, voter: string): StoredVote | null => {
  const s = localStorage.getItem(voteKey(poll, voter));
  return s ? (JSON.parse(s) as StoredVote) : null;
};

export async function curate(main: HTMLElement): Promise<void> {
  const q = await tcr();
  const [cfg, params] = await Promise.all([q.config(), q.params()]);
  main.append(h("h1", {}, "Curate sellers"));
  if (!("native" in cfg.stake)) {
    main.append(h("p", { class: "status error", role: "alert" }, `This registry stakes the cw20 token ${cfg.stake.cw20}: staking through cw20 sends is not supported by this page yet; use a native-stake registry.`));
    return;
  }
  const denom = cfg.stake.native;
  const stake = cfg.min_deposit_in_force;
  main.append(
    h("p", {}, `Sellers stake at least ${amount(stake, denom)} to be listed. An application is listed after ${params.apply_stage_secs} s unless someone challenges it with the same stake; token holders then commit secret votes for ${params.commit_stage_secs} s and reveal them for ${params.reveal_stage_secs} s. The winning side shares ${params.dispensation_pct}% of the loser's stake.`),
  );
  const me = current()?.address;

  // Apply.
  const subject = field("Subject", input({ name: "subject", value: me ?? "" }), "Your address (an address can only be applied for by itself) or another id.");
  const data = field("Supporting data (IPFS CID)", input({ name: "data", autocomplete: "off" }));
  const deposit = field("Deposit", input({ name: "deposit", value: stake, inputmode: "numeric" }), `In ${denom}; at least ${stake}.`);
  const applyStatus = statusLine();
  const applyBtn: HTMLButtonElement = h("button", { type: "submit", class: "primary" }, "Apply");
  const applyForm = h(
    "form",
    {
      "aria-labelledby": "apply-h",
      onsubmit: (e: Event) => {
        e.preventDefault();
        void act(
          applyStatus,
          async () => {
            await tcrTx().apply({ subject: subject.input.value.trim(), data: data.input.value.trim() }, "auto", undefined, coins(deposit.input.value.trim(), denom));
            void reg.reload();
            return `Applied for ${subject.input.value.trim()}: listed after ${params.apply_stage_secs} s unless challenged.`;
          },
          { fields: { subject, data, deposit, cid: data }, button: applyBtn },
        );
      },
    },
    h("h2", { id: "apply-h" }, "Apply"),
    subject.row,
    data.row,
    deposit.row,
    applyBtn,
    applyStatus,
  );

  // Applications and listings.
  const regStatus = statusLine();
  const regList = h("ul", { class: "cards", "aria-label": "Applications and listings" });
  let now = await chainTime();
  const reg = pager<string, ListingResponse>(
    regList,
    (l) => {
      const reason = input({ name: "reason", autocomplete: "off", "aria-label": `Reasons for challenging ${l.subject} (IPFS CID)`, placeholder: "reasons (IPFS CID)" });
      const mine = l.owner === me;
      return h(
        "li",
        { class: "card", "data-subject": l.subject },
        h("h3", {}, h("code", {}, l.subject)),
        h(
          "p",
          {},
          h("span", { class: "tag" }, l.status),
          ` · deposit ${amount(l.deposit, denom)}`,
          l.status === "application" ? ` · application ends ${relative(l.application_end, now)}` : "",
          l.challenge_id != null ? ` · challenged: poll #${l.challenge_id}` : "",
          ` · challenges survived ${l.challenges_survived}`,
        ),
        h(
          "div",
          { class: "actions" },
          h("button", { type: "button", onclick: () => void act(regStatus, async () => (await tcrTx().updateStatus({ subject: l.subject }), void reload(), `Status of ${short(l.subject)} updated.`)) }, "Update status"),
          me && !mine && l.challenge_id == null && (l.status === "application" || l.status === "listed")
            ? [
                reason,
                h(
                  "button",
                  {
                    type: "button",
                    onclick: () =>
                      void act(regStatus, async () => {
                        await tcrTx().challenge({ subject: l.subject, reason: reason.value.trim() }, "auto", undefined, coins(stake, denom));
                        void reload();
                        return `Challenged ${short(l.subject)} with ${amount(stake, denom)}: voting is open.`;
                      }),
                  },
                  `Challenge (stake ${amount(stake, denom)})`,
                ),
              ]
            : null,
        ),
      );
    },
    async (cursor) => {
      const page = (await q.listings({ startAfter: cursor ?? undefined, limit: 10 })).listings;
      return { items: page, next: page.length === 10 ? page[page.length - 1].subject : null };
    },
    "Nobody has applied yet.",
  );

  // Voting balance.
  const voterInfo = h("p", { "data-testid": "voter" });
  const vDeposit = field("Voting tokens to deposit", input({ name: "voting", inputmode: "numeric", value: stake }), `In ${denom}.`);
  const voteStatus = statusLine();
  const showVoter = async () => {
    if (!me) return;
    const v = await q.voter({ address: me }).catch(() => null);
    voterInfo.textContent = v
      ? `Your voting balance: ${amount(v.balance, denom)} (locked in polls ${amount(v.locked, denom)}, withdrawable ${amount(v.withdrawable, denom)}).`
      : "You have no voting tokens yet.";
  };

  // Polls.
  const pollList = h("ul", { class: "cards", "aria-label": "Polls" });
  const polls = pager<number, PollResponse>(
    pollList,
    (p) => pollCard(p),
    async (cursor) => {
      const page = (await q.polls({ startAfter: cursor ?? undefined, limit: 10 })).polls;
      return { items: page, next: page.length === 10 ? page[page.length - 1].poll_id : null };
    },
    "No challenge has been made.",
  );
  function pollCard(p: PollResponse): HTMLElement {
    const phase = now < secs(p.commit_end) ? "commit" : now < secs(p.reveal_end) ? "reveal" : "ended";
    const stored = me ? loadVote(p.poll_id, me) : null;
    const choice = select([["keep", "Keep (the subject stays)"], ["remove", "Remove"]], { "aria-label": `Your vote in poll ${p.poll_id}` });
    const weight = input({ inputmode: "numeric", value: stored?.weight ?? stake, "aria-label": `Voting weight in poll ${p.poll_id}` });
    const commitBtn = h(
      "button",
      {
        type: "button",
        onclick: () =>
          void act(voteStatus, async () => {
            const voter = me as string;
            const salt = crypto.getRandomValues(new Uint8Array(32));
            const c = choice.value as Choice;
            const hash = commitment(config().chain.chain_id, config().contracts.token_curated_registry, p.poll_id, voter, c, salt);
            // Kept before signing: a commitment on chain without its salt could never be revealed.
            const keep: StoredVote = { choice: c, salt: toHex(salt), weight: weight.value.trim(), commitment: hash };
            const prev = localStorage.getItem(voteKey(p.poll_id, voter));
            localStorage.setItem(voteKey(p.poll_id, voter), JSON.stringify(keep));
            try {
              await tcrTx().commitVote({ pollId: p.poll_id, commitment: hash, weight: keep.weight });
            } catch (e) {
              if (prev) localStorage.setItem(voteKey(p.poll_id, voter), prev);
              else localStorage.removeItem(voteKey(p.poll_id, voter));
              throw e;
            }
            void reload();
            return `Vote committed in poll #${p.poll_id}. Its salt is kept in this browser: reveal from here between ${when(p.commit_end)} and ${when(p.reveal_end)}.`;
          }),
      },
      stored ? "Commit again (replaces)" : "Commit vote",
    );
    const revealBtn = h(
      "button",
      {
        type: "button",
        onclick: () =>
          void act(voteStatus, async () => {
            const s = loadVote(p.poll_id, me as string);
            if (!s) throw new Error(`No committed vote for poll #${p.poll_id} is stored in this browser.`);
            await tcrTx().revealVote({ pollId: p.poll_id, choice: s.choice, salt: toBase64(fromHex(s.salt)) });
            void reload();
            return `Vote revealed in poll #${p.poll_id}: ${s.choice}.`;
          }),
      },
      "Reveal vote",
    );
    const claimBtn = h(
      "button",
      {
        type: "button",
        onclick: () =>
          void act(voteStatus, async () => {
            const r = await q.claimableReward({ pollId: p.poll_id, voter: me as string });
            await tcrTx().claimReward({ pollId: p.poll_id });
            void reload();
            return `Claimed ${amount(r.amount, denom)} from poll #${p.poll_id}.`;
          }),
      },
      "Claim reward",
    );
    const resolveBtn = h(
      "button",
      { type: "button", onclick: () => void act(voteStatus, async () => (await tcrTx().updateStatus({ subject: p.subject }), void reload(), `Poll #${p.poll_id} resolved.`)) },
      "Resolve",
    );
    return h(
      "li",
      { class: "card", "data-poll": p.poll_id },
      h("h3", {}, `Poll #${p.poll_id} on `, h("code", {}, p.subject)),
      h(
        "p",
        { "data-testid": "poll-phase" },
        `Phase: ${phase}`,
        ` · commit ends ${relative(p.commit_end, now)} · reveal ends ${relative(p.reveal_end, now)}`,
        ` · revealed: keep ${amount(p.votes_keep)} (${p.voters_keep} voters), remove ${amount(p.votes_remove)} (${p.voters_remove})`,
        p.outcome ? ` · outcome: ${p.outcome}` : "",
        ` · reward pool ${amount(p.reward_pool, denom)}`,
      ),
      stored ? h("p", { class: "hint" }, `Your committed vote (kept in this browser): ${stored.choice}, weight ${stored.weight}.`) : null,
      me
        ? h(
            "div",
            { class: "actions" },
            phase === "commit" ? [choice, weight, commitBtn] : null,
            phase === "reveal" && stored ? revealBtn : null,
            phase === "ended" && !p.outcome ? resolveBtn : null,
            p.outcome ? claimBtn : null,
          )
        : null,
    );
  }

  async function reload(): Promise<void> {
    now = await chainTime();
    await Promise.all([reg.reload(), polls.reload(), showVoter()]);
  }

  main.append(
    me ? applyForm : h("p", {}, "Connect a wallet to apply, challenge or vote."),
    h("section", { "aria-labelledby": "reg-h" }, h("h2", { id: "reg-h" }, "Applications and listings"), regStatus, regList, reg.el),
    h(
      "section",
      { "aria-labelledby": "votes-h" },
      h("h2", { id: "votes-h" }, "Votes"),
      h("p", { class: "hint" }, "A vote is committed as a hash; its random salt stays in this browser (localStorage) and is sent only with the reveal. Unrevealed votes forfeit part of their weight."),
      voterInfo,
      me
        ? h(
            "form",
            {
              onsubmit: (e: Event) => {
                e.preventDefault();
                void act(voteStatus, async () => {
                  await tcrTx().depositVotingTokens("auto", undefined, coins(vDeposit.input.value.trim(), denom));
                  await showVoter();
                  return `Deposited ${amount(vDeposit.input.value.trim(), denom)} of voting tokens.`;
                });
              },
            },
            vDeposit.row,
            h("button", { type: "submit" }, "Deposit voting tokens"),
          )
        : null,
      voteStatus,
      h("div", { class: "actions" }, h("button", { type: "button", onclick: () => void reload() }, "Refresh")),
      pollList,
      polls.el,
    ),
  );
  await reload();
}
