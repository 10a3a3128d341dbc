/** The form a buyer rates a listing with (the listing page and the stream page share it). */

import { field, h, input, select, statusLine } from "../dom";
import { registryTx } from "../clients";
import { act } from "../ui";

export function rateForm(id: number, onRated: () => void, hint: string | Node): HTMLElement {
  const score = field("Score", select([["5", "★★★★★ 5"], ["4", "★★★★ 4"], ["3", "★★★ 3"], ["2", "★★ 2"], ["1", "★ 1"]], { name: "score" }));
  const review = field("Review (IPFS CID, optional)", input({ name: "review", autocomplete: "off" }));
  const status = statusLine();
  const button: HTMLButtonElement = h("button", { type: "submit", class: "primary" }, "Rate this listing");
  return h(
    "form",
    {
      "aria-labelledby": "rate-h",
      onsubmit: (e: Event) => {
        e.preventDefault();
        void act(
          status,
          async () => {
            await registryTx().rate({ id, score: Number(score.input.value), reviewCid: review.input.value.trim() || undefined });
            onRated();
            return `Rated listing #${id} ${score.input.value} stars.`;
          },
          { fields: { score, review_cid: review }, button },
        );
      },
    },
    h("h2", { id: "rate-h" }, "Rate"),
    h("p", { class: "hint" }, hint),
    score.row,
    review.row,
    button,
    status,
  );
}
