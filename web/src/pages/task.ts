/** One task: its lifecycle timeline, sponsor / offer / confirm / advance / claim / refund, offers, matching, and the oracles' attestations. */

import { dl, field, h, input, mount, statusLine } from "../dom";
import { coins, tasks as tasksQ, tasksTx } from "../clients";
import { amount, assetName, relative, short, when } from "../format";
import { act, pager } from "../ui";
import { chainTime, current } from "../wallet";
import type { OfferResponse, SlotResponse, TaskResponse } from "../contracts/ValueContract.types";

const STEPS: { status: string; label: string; until: (t: TaskResponse) => string | null }[] = [
  { status: "funding", label: "Funding", until: (t) => t.terms.funding_deadline },
  { status: "matching", label: "Matching", until: (t) => t.terms.matching_deadline },
  { status: "accepting", label: "Acceptance", until: (t) => t.terms.acceptance_deadline },
  { status: "executing", label: "Execution", until: (t) => t.terms.execution_deadline },
  { status: "verifying", label: "Verification", until: (t) => t.terms.verification_deadline },
  {
    status: "disputable",
    label: "Dispute window",
    until: (t) => (t.dispute_start ? (BigInt(t.dispute_start) + BigInt(t.terms.dispute_secs) * 1_000_000_000n).toString() : null),
  },
  { status: "settled", label: "Settled", until: () => null },
];
const OFF_PATH: Record<string, string> = {
  funding_failed: "The funding goal was not met by the deadline: sponsors can take their contributions back.",
  expired: "Nobody took part (or no value was attested): sponsors can take their contributions back.",
  cancelled: "Cancelled: nobody confirmed in the first round.",
  voided: "Voided by the owner.",
};

function timeline(t: TaskResponse, now: number): HTMLElement {
  const at = STEPS.findIndex((s) => s.status === t.status);
  return h(
    "ol",
    { class: "timeline", "aria-label": "Lifecycle" },
    ...STEPS.map((s, i) => {
      const u = s.until(t);
      const state = at < 0 ? "" : i < at ? "done" : i === at ? "now" : "";
      return h(
        "li",
        { class: state, "aria-current": i === at ? "step" : null, "data-step": s.status },
        h("span", { class: "step" }, s.label),
        u ? h("span", { class: "hint" }, ` until ${when(u)} (${relative(u, now)})`) : null,
      );
    }),
  );
}

export async function task(main: HTMLElement, arg: string | undefined): Promise<void> {
  const id = Number(arg);
  if (!Number.isInteger(id) || id <= 0) throw new Error(`“${arg}” is not a task id`);
  const q = await tasksQ();
  const box = h("div");
  const status = statusLine();
  main.append(h("p", {}, h("a", { href: "#/tasks" }, "← City tasks")), box);

  async function draw(): Promise<void> {
    const [t, now] = await Promise.all([q.task({ id }), chainTime()]);
    const a = t.terms.asset;
    const denom = "native" in a ? a.native : null;
    const me = current()?.address;
    const tx = (run: () => Promise<unknown>, done: string) => () =>
      void act(status, async () => {
        await run();
        await draw();
        return done;
      });

    // What the connected account can do now.
    const actions: (HTMLElement | null)[] = [];
    if (me && denom) {
      if (t.status === "funding" || t.status === "matching") {
        const amt = field("Contribution", input({ name: "contribution", inputmode: "numeric" }), `In ${denom}.`);
        actions.push(
          h("form", { onsubmit: (e: Event) => (e.preventDefault(), tx(() => tasksTx().contribute({ taskId: id }, "auto", undefined, coins(amt.input.value.trim(), denom)), `Contributed ${amt.input.value.trim()} ${denom}.`)()) }, amt.row, h("button", { type: "submit" }, "Sponsor")),
        );
      }
      if (t.status === "funding" || t.status === "matching") {
        const price = field("Price", input({ name: "price", inputmode: "numeric", value: "0" }), "What you ask per unit (0 in a competition).");
        const cap = field("Capacity (units)", input({ name: "capacity", inputmode: "numeric", value: "1" }));
        const minU = field("At least (units)", input({ name: "min_units", inputmode: "numeric", value: "1" }));
        actions.push(
          h(
            "form",
            {
              "aria-label": "Make an offer",
              onsubmit: (e: Event) => {
                e.preventDefault();
                tx(
                  () => tasksTx().submitOffer({ taskId: id, price: price.input.value.trim(), capacity: Number(cap.input.value), minUnits: Number(minU.input.value) }, "auto", undefined, coins(t.terms.offer_deposit, denom)),
                  "Offer made: it is matched at the matching deadline.",
                )();
              },
            },
            h("div", { class: "grid" }, price.row, cap.row, minU.row),
            h("button", { type: "submit" }, `Make an offer (deposit ${amount(t.terms.offer_deposit, denom)})`),
          ),
        );
      }
      if (t.status === "accepting") {
        actions.push(h("button", { type: "button", onclick: tx(() => tasksTx().confirm({ taskId: id }, "auto", undefined, coins(t.terms.bond, denom)), "Confirmed: your bond is held until the task settles.") }, `Confirm with a bond of ${amount(t.terms.bond, denom)}`));
      }
      if (t.advance_due || t.status !== t.stored_status) {
        actions.push(h("button", { type: "button", onclick: tx(() => tasksTx().advance({ taskId: id }), "The task moved on.") }, "Advance the task"));
      }
      const c = await q.claimable({ taskId: id, address: me });
      if (c.reward !== "0" || c.bond !== "0") {
        actions.push(h("button", { type: "button", class: "primary", onclick: tx(() => tasksTx().claim({ taskId: id }), `Claimed ${amount(c.reward, a)} reward and ${amount(c.bond, a)} bond.`) }, `Claim ${amount(c.reward, a)} reward + ${amount(c.bond, a)} bond`));
      }
      if (c.refund !== "0") {
        actions.push(h("button", { type: "button", onclick: tx(() => tasksTx().refund({ taskId: id }), `Refunded ${amount(c.refund, a)}.`) }, `Take back ${amount(c.refund, a)} (refund)`));
      }
    }

    const offers = h("tbody");
    const offerPager = pager<number, OfferResponse>(
      offers,
      (o) => h("tr", {}, h("td", {}, `#${o.offer_id}`), h("td", {}, h("code", { title: o.participant }, short(o.participant))), h("td", {}, amount(o.price, a)), h("td", {}, `${o.min_units}–${o.capacity}`), h("td", {}, o.matched ? "matched" : "—")),
      async (cursor) => {
        const page = (await q.offers({ taskId: id, startAfter: cursor ?? undefined, limit: 10 })).offers;
        return { items: page, next: page.length === 10 ? page[page.length - 1].offer_id : null };
      },
      "No offers yet.",
    );
    const slots = h("tbody");
    const slotPager = pager<string, SlotResponse>(
      slots,
      (s) => {
        const att = h("td", { "data-testid": "attestations" }, "…");
        void q.attestations({ taskId: id, participant: s.participant, limit: 30 }).then(
          (r) =>
            att.replaceChildren(
              r.accepted ? h("strong", {}, `accepted ${amount(r.accepted)} ${t.terms.unit}`) : "not accepted yet",
              h("ul", {}, ...r.attestations.map((x) => h("li", {}, `${short(x.oracle)}: ${amount(x.value)} (evidence ${x.evidence_cid.slice(0, 12)}…)`))),
            ),
          () => (att.textContent = "—"),
        );
        return h(
          "tr",
          { "data-participant": s.participant },
          h("td", {}, h("code", { title: s.participant }, short(s.participant))),
          h("td", {}, `${s.units}`),
          h("td", {}, s.confirmed ? "yes" : "no"),
          att,
          h("td", {}, s.reward != null ? amount(s.reward, a) : "—"),
          h("td", {}, s.claimed ? "claimed" : "—"),
        );
      },
      async (cursor) => {
        const page = (await q.matching({ taskId: id, startAfter: cursor ?? undefined, limit: 10 })).slots;
        return { items: page, next: page.length === 10 ? page[page.length - 1].participant : null };
      },
      "Not matched yet.",
    );
    const contribution = me ? await q.contribution({ taskId: id, sponsor: me }).catch(() => null) : null;
    mount(
      box,
      h("h1", {}, `Task #${t.id}: ${t.terms.title}`),
      h("p", { "data-testid": "task-status" }, "Status: ", h("strong", {}, t.status), t.advance_due ? " (a transition is due: advance the task)" : ""),
      OFF_PATH[t.status] ? h("p", { class: "status" }, OFF_PATH[t.status]) : null,
      timeline(t, now),
      dl([
        ["Kind", `${t.terms.kind}, measuring ${t.terms.metric} in ${t.terms.unit}`],
        ["Creator", h("code", {}, t.terms.creator)],
        ["Funded", `${amount(t.funded, a)} of ${amount(t.terms.funding_goal, a)} by ${t.sponsor_count} sponsors`],
        ["Participants", `${t.slot_count} matched, ${t.confirmed_count} confirmed (at most ${t.terms.max_participants})`],
        ["Bond / offer deposit", `${amount(t.terms.bond, a)} / ${amount(t.terms.offer_deposit, a)}`],
        ["Oracles", `${t.terms.min_quorum} must agree within ${t.terms.tolerance_bps / 100}%`],
        ["Accepted value (total)", `${amount(t.value_total)} ${t.terms.unit}`],
        ["Description", h("code", {}, t.terms.description_cid)],
        ["Your contribution", contribution ? `${amount(contribution.amount, a)}${contribution.refunded ? " (refunded)" : ""}` : "—"],
        ["Settlement", t.settlement ? `rewards ${amount(t.settlement.total_rewards, a)}, back to sponsors ${amount(t.settlement.sponsor_pool, a)}, forfeited bonds ${amount(t.settlement.forfeited_bonds, a)}` : "—"],
      ]),
      denom ? null : h("p", { class: "status error" }, `This task is paid in ${assetName(a)}: cw20 contributions are not supported by this page yet.`),
      h("section", { "aria-labelledby": "act-h" }, h("h2", { id: "act-h" }, "What you can do"), me ? (actions.length ? actions : h("p", {}, "Nothing at this stage.")) : h("p", {}, "Connect a wallet."), status, h("button", { type: "button", onclick: () => void draw() }, "Refresh")),
      h("section", { "aria-labelledby": "off-h" }, h("h2", { id: "off-h" }, "Offers"), table(["Offer", "Participant", "Price", "Units", "Matched"], offers), offerPager.el),
      h("section", { "aria-labelledby": "slot-h" }, h("h2", { id: "slot-h" }, "Participants and attestations"), table(["Participant", "Units", "Confirmed", "Oracles' attestations", "Reward", "Claimed"], slots), slotPager.el),
    );
    await Promise.all([offerPager.reload(), slotPager.reload()]);
  }
  await draw();
}

function table(cols: string[], body: HTMLElement): HTMLElement {
  return h("table", {}, h("thead", {}, h("tr", {}, ...cols.map((c) => h("th", { scope: "col" }, c)))), body);
}
