/** The app's entry: loads config.json, draws the header (navigation, wallet) and routes #/page/arg to a page. */

import "./style.css";
import { loadConfig, config } from "./config";
import { h, mount } from "./dom";
import { walletBox } from "./wallet-box";
import { onWalletChange } from "./wallet";
import { explain } from "./errors";

type Page = (main: HTMLElement, arg: string | undefined) => Promise<void> | void;

// Pages load on demand: the first render needs only the header and the current page.
const PAGES: Record<string, { title: string; load: () => Promise<Page>; nav: boolean }> = {
  market: { title: "Marketplace", load: () => import("./pages/market").then((m) => m.market), nav: true },
  listing: { title: "Listing", load: () => import("./pages/listing").then((m) => m.listing), nav: false },
  stream: { title: "Buy a stream", load: () => import("./pages/stream").then((m) => m.stream), nav: true },
  sell: { title: "Sell", load: () => import("./pages/sell").then((m) => m.sell), nav: true },
  curate: { title: "Curate", load: () => import("./pages/curate").then((m) => m.curate), nav: true },
  tasks: { title: "City tasks", load: () => import("./pages/tasks").then((m) => m.tasks), nav: true },
  task: { title: "Task", load: () => import("./pages/task").then((m) => m.task), nav: false },
};

const main = document.getElementById("main") as HTMLElement;
const nav = document.getElementById("nav") as HTMLElement;

function route(): [string, string | undefined] {
  const [, name, arg] = /^#\/([a-z]+)(?:\/(.+))?$/.exec(location.hash) ?? [];
  return name && PAGES[name] ? [name, arg ? decodeURIComponent(arg) : undefined] : ["market", undefined];
}

let rendering = 0;
async function render(): Promise<void> {
  const n = ++rendering;
  const [name, arg] = route();
  const page = PAGES[name];
  document.title = `${page.title} · WeValue`;
  for (const a of nav.querySelectorAll("a")) {
    if (a.getAttribute("href") === `#/${name}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  // Each render draws into its own root: a render overtaken by a newer one
  // (the wallet changed while it awaited the chain) fills a detached element.
  const root = h("div", { class: "page" });
  try {
    const draw = await page.load();
    if (n !== rendering) return;
    main.replaceChildren(root);
    await draw(root, arg);
  } catch (e) {
    mount(root, h("h1", {}, page.title), h("p", { class: "status error", role: "alert" }, explain(e).text));
  }
}

async function start(): Promise<void> {
  try {
    await loadConfig();
  } catch (e) {
    mount(main, h("h1", {}, "WeValue"), h("p", { class: "status error", role: "alert" }, (e as Error).message));
    return;
  }
  mount(nav, ...Object.entries(PAGES).filter(([, p]) => p.nav).map(([k, p]) => h("li", {}, h("a", { href: `#/${k}` }, p.title))));
  const brand = document.querySelector(".brand");
  if (brand) brand.textContent = `WeValue · ${config().chain.name}`;
  walletBox(document.getElementById("wallet") as HTMLElement);
  window.addEventListener("hashchange", () => {
    void render().then(() => main.focus());
  });
  // Pages show what the connected account can do: redraw when it changes.
  onWalletChange(() => void render());
  await render();
  performance.mark("wevalue-first-render");
  document.body.dataset.ready = "true";
}

void start();
