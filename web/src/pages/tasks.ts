/** City tasks: templates, a task's preview (its computed terms and deadlines), creating one, and the list of tasks. */

import { config } from "../config";
import { dl, field, h, input, select, statusLine } from "../dom";
import { tasks as tasksQ, tasksTx } from "../clients";
import { amount, when } from "../format";
import { act, pager } from "../ui";
import { attribute, current } from "../wallet";
import type { TaskParams, TaskResponse, TemplateResponse } from "../contracts/ValueContract.types";

const KIND_TEXT: Record<string, string> = {
  bounty: "a bounty: one goal, paid when it is reached",
  competition: "a competition: the reward is shared by measured value",
  per_unit: "per unit: each delivered unit is paid at the offered price",
  crowdfunding: "crowdfunding: many sponsors fund one target",
};

export async function tasks(main: HTMLElement): Promise<void> {
  const q = await tasksQ();
  const denom = config().chain.denom;
  main.append(
    h("h1", {}, "City tasks"),
    h("p", {}, "Sponsors fund a task, participants offer to do it and confirm with a bond, oracles attest the measured value, and the reward is paid by that value after a dispute window."),
  );

  // Templates.
  const templates: TemplateResponse[] = [];
  const tplList = h("ul", { class: "cards", "aria-label": "Templates" });
  const tplSelect = h("select", { name: "template" });
  const tplPager = pager<number, TemplateResponse>(
    tplList,
    (t) => {
      templates.push(t);
      tplSelect.append(h("option", { value: String(t.id) }, `#${t.id} ${t.name}`));
      return h(
        "li",
        { class: "card", "data-template": t.id },
        h("h3", {}, `#${t.id} ${t.name}`, t.active ? "" : " (disabled)"),
        h("p", {}, `${KIND_TEXT[t.kind] ?? t.kind}. Measures ${t.metric} in ${t.unit}; at most ${t.max_participants} participants; ${t.min_quorum} oracles must agree within ${t.tolerance_bps / 100}%; offers need a deposit of ${amount(t.offer_deposit, denom)}.`),
        h("p", { class: "hint" }, `Stages: funding ${t.durations.funding} s, matching ${t.durations.matching} s, acceptance ${t.durations.acceptance} s a round, execution ${t.durations.execution} s, verification ${t.durations.verification} s, dispute ${t.durations.dispute} s.`),
        h("button", { type: "button", onclick: () => useTemplate(t) }, "Use this template"),
      );
    },
    async (cursor) => {
      const page = (await q.templates({ startAfter: cursor ?? undefined, limit: 10 })).templates;
      return { items: page, next: page.length === 10 ? page[page.length - 1].id : null };
    },
    "No templates yet (the contract's owner creates them).",
  );

  // The task form.
  const tpl = field("Template", tplSelect);
  const title = field("Title", input({ name: "title", maxlength: 100 }));
  const desc = field("Description (IPFS CID)", input({ name: "description_cid", autocomplete: "off" }));
  const goal = field("Funding goal", input({ name: "funding_goal", inputmode: "numeric" }), `In ${denom}.`);
  const target = field("Target", input({ name: "target", inputmode: "numeric", value: "0" }), "Bounties and crowdfunding need a target; competitions and per-unit tasks take 0.");
  const maxP = field("Participants at most", input({ name: "max_participants", inputmode: "numeric", value: "3" }));
  const bond = field("Participant's bond", input({ name: "bond", inputmode: "numeric", value: "1000" }), `In ${denom}; returned after the task unless slashed.`);
  const fields = { template_id: tpl, title, cid: desc, description_cid: desc, funding_goal: goal, target, max_participants: maxP, bond };
  const formStatus = statusLine();
  const preview = h("div", { "aria-live": "polite", "data-testid": "preview" });
  function useTemplate(t: TemplateResponse): void {
    tplSelect.value = String(t.id);
    target.input.value = t.kind === "bounty" || t.kind === "crowdfunding" ? target.input.value || "1" : "0";
    maxP.input.value = String(Math.min(Number(maxP.input.value) || t.max_participants, t.max_participants));
    title.input.focus();
  }
  const params = (): TaskParams => ({
    title: title.input.value.trim(),
    description_cid: desc.input.value.trim(),
    asset: { native: denom },
    funding_goal: goal.input.value.trim() || "0",
    target: target.input.value.trim() || "0",
    max_participants: Number(maxP.input.value.trim()),
    bond: bond.input.value.trim() || "0",
    durations: {},
  });
  const previewBtn: HTMLButtonElement = h("button", { type: "button" }, "Preview");
  previewBtn.addEventListener("click", () =>
    void act(
      formStatus,
      async () => {
        const terms = await q.previewTask({ templateId: Number(tplSelect.value), params: params() });
        preview.replaceChildren(
          h("h3", {}, "Preview (if created now)"),
          dl([
            ["Kind", terms.kind],
            ["Metric", `${terms.metric} (${terms.unit})`],
            ["Funding goal", amount(terms.funding_goal, terms.asset)],
            ["Bond / offer deposit", `${amount(terms.bond, terms.asset)} / ${amount(terms.offer_deposit, terms.asset)}`],
            ["Funding until", when(terms.funding_deadline)],
            ["Matching until", when(terms.matching_deadline)],
            ["Acceptance until", when(terms.acceptance_deadline)],
            ["Execution until", when(terms.execution_deadline)],
            ["Verification until", when(terms.verification_deadline)],
            ["Dispute window", `${terms.dispute_secs} s`],
            ["Oracles needed", `${terms.min_quorum}, within ${terms.tolerance_bps / 100}%`],
          ]),
        );
        return "The contract accepts these parameters.";
      },
      { fields, button: previewBtn },
    ),
  );
  const createBtn: HTMLButtonElement = h("button", { type: "submit", class: "primary" }, "Create task");
  const form = h(
    "form",
    {
      "aria-labelledby": "new-h",
      onsubmit: (e: Event) => {
        e.preventDefault();
        void act(
          formStatus,
          async () => {
            const res = await tasksTx().createTask({ templateId: Number(tplSelect.value), params: params() });
            const id = attribute(res, "task_id");
            if (id) location.hash = `#/task/${id}`;
            return `Task #${id ?? "?"} created: sponsors can fund it now.`;
          },
          { fields, button: createBtn },
        );
      },
    },
    h("h2", { id: "new-h" }, "New task"),
    h("div", { class: "grid" }, tpl.row, title.row, desc.row, goal.row, target.row, maxP.row, bond.row),
    h("div", { class: "actions" }, previewBtn, createBtn),
    formStatus,
    preview,
  );

  // Tasks.
  const list = h("ul", { class: "cards", "aria-label": "Tasks" });
  const status = field("Status", select([["", "any"], ["funding", "funding"], ["matching", "matching"], ["accepting", "accepting"], ["executing", "executing"], ["verifying", "verifying"], ["disputable", "disputable"], ["settled", "settled"]], { name: "status" }));
  const taskPager = pager<number, TaskResponse>(
    list,
    (t) =>
      h(
        "li",
        { class: "card", "data-task": t.id },
        h("h3", {}, h("a", { href: `#/task/${t.id}` }, `#${t.id} ${t.terms.title}`)),
        h("p", {}, h("span", { class: "tag" }, t.status), ` · funded ${amount(t.funded, t.terms.asset)} of ${amount(t.terms.funding_goal, t.terms.asset)} · ${t.offer_count} offers · ${t.confirmed_count} confirmed`),
      ),
    async (cursor) => {
      const st = status.input.value;
      const page = st
        ? (await q.tasksByStatus({ status: st as TaskResponse["status"], startAfter: cursor ?? undefined, limit: 10 })).tasks
        : (await q.tasks({ startAfter: cursor ?? undefined, limit: 10 })).tasks;
      return { items: page, next: page.length === 10 ? page[page.length - 1].id : null };
    },
    "No tasks.",
  );
  status.input.addEventListener("change", () => void taskPager.reload());

  main.append(
    h("section", { "aria-labelledby": "tpl-h" }, h("h2", { id: "tpl-h" }, "Templates"), tplList, tplPager.el),
    current() ? form : h("p", {}, "Connect a wallet to create a task."),
    h("section", { "aria-labelledby": "tasks-h" }, h("h2", { id: "tasks-h" }, "Tasks"), status.row, list, taskPager.el),
  );
  await Promise.all([tplPager.reload(), taskPager.reload()]);
}
