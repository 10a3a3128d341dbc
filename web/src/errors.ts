/** Turns chain and contract errors into sentences, and finds the form field an error concerns. */

/** An error a person can read: `text` is the explanation, `raw` the contract's own words. */
export class TxError extends Error {
  constructor(
    public text: string,
    public raw: string,
    /** The message field the error concerns, when the contract names one. */
    public field: string | null = null,
  ) {
    super(text);
  }
}

/** The user closed the fee dialog without signing. */
export class Cancelled extends Error {
  constructor() {
    super("cancelled: nothing was signed");
  }
}

/**
 * The contract's own error text out of a CosmJS error: wasmd wraps it as
 * "... message index: 0: <contract error>: execute wasm contract failed ...",
 * queries as "... Generic error: Querier contract error: <text>" or
 * "... query wasm contract failed: <text>".
 */
export function contractText(e: unknown): string {
  let msg = e instanceof Error ? e.message : String(e);
  // Cut wasmd's suffix (and what follows it: stack hints, gas figures).
  const end = /: (?:execute|instantiate|query) wasm contract failed/.exec(msg);
  if (end) msg = msg.slice(0, end.index);
  else msg = msg.replace(/ \[[^\]]*\].*$/s, "").replace(/: unknown request$/, "");
  // Cut the wrappers before it: the last one is nearest the contract's text.
  const wrappers = [/message index: \d+: /g, /Querier contract error: /g, /Generic error: /g, /desc = /g, /Query failed with \(\d+\): /g];
  let from = 0;
  for (const re of wrappers) {
    for (const m of msg.matchAll(re)) from = Math.max(from, (m.index ?? 0) + m[0].length);
  }
  return msg.slice(from).replace(/^failed to execute message; /, "").trim();
}

type Rule = [RegExp, (m: RegExpExecArray) => string, ((m: RegExpExecArray) => string | null)?];

const units = (s: string): string => s;

/** Contract error text → readable sentence (and, where it names one, the field). */
const RULES: Rule[] = [
  // data-registry
  [/invalid IPFS CID "(.*?)": (.*)$/, (m) => `“${m[1]}” is not a valid IPFS content id (${m[2]}). Use a CID such as bafy… or Qm….`, () => "cid"],
  [/invalid SDPP endpoint "(.*?)": (.*)$/, (m) => `The stream endpoint “${m[1]}” is not usable: ${m[2]}.`, () => "endpoint"],
  [/SDPP endpoint "(.*?)" is on a private/, (m) => `The endpoint “${m[1]}” is on a private or local host, which this registry does not accept.`, () => "endpoint"],
  [/^(\w+) must be (\d+) to (\d+) characters long, got (\d+)/, (m) => `${label(m[1])} must be ${m[2]} to ${m[3]} characters long (it has ${m[4]}).`, (m) => m[1]],
  [/^(\w+) "(.*?)" is invalid: (.*)$/, (m) => `${label(m[1])} “${m[2]}” is not accepted: ${m[3]}.`, (m) => m[1]],
  [/^(\w+) contains the control or invisible character (U\+[0-9A-F]+) at position (\d+)/, (m) => `${label(m[1])} contains an invisible character (${m[2]}) at position ${m[3]}; remove it.`, (m) => m[1]],
  [/invalid coordinates: (.*)$/, (m) => `The place is not valid: ${m[1]}.`, () => "location"],
  [/invalid geohash cell "(.*?)": (.*)$/, (m) => `“${m[1]}” is not a geohash cell: ${m[2]}.`, () => "cell"],
  [/price per unit must be greater than zero/, () => "The price per unit must be more than zero.", () => "price"],
  [/invalid price range: min (\S+) is above max (\S+)/, (m) => `The lowest price (${m[1]}) is above the highest (${m[2]}).`, () => "price"],
  [/seller (\S+) is not listed in the curation registry/, () => "You are not a curated seller yet: apply to the curation registry (Curate page) and wait until your application is listed."],
  [/(\S+) paid (\d+) for listing (\d+) in its asset; a first rating needs at least (\d+) \(its price × (\d+) units\)/, (m) => `Only buyers can rate: you paid ${units(m[2])} for listing #${m[3]}, and a rating needs a purchase of at least ${m[4]} (${m[5]} units at its price).`],
  [/sellers cannot rate their own listings/, () => "Sellers cannot rate their own listings."],
  [/score must be between 1 and 5/, () => "The score must be 1 to 5 stars.", () => "score"],
  [/ratings are disabled/, () => "Ratings are switched off on this registry (no purchase verifier)."],
  [/only the seller of listing (\d+) may do this/, (m) => `Only the seller of listing #${m[1]} can do this.`],
  [/listing (\d+) is retired/, (m) => `Listing #${m[1]} is retired; it cannot change any more.`],
  [/listing (\d+) is already (\w+)/, (m) => `Listing #${m[1]} is already ${m[2]}.`],
  [/listing (\d+) not found/, (m) => `There is no listing #${m[1]}.`],
  [/the update changes nothing/, () => "Nothing changed: edit at least one field."],
  [/wrong listing deposit: expected (\S+), received (.*)$/, (m) => `Creating a listing needs a deposit of exactly ${m[1]} (sent: ${m[2] || "nothing"}).`],
  // token-curated-registry
  [/deposit (\d+) is below the minimum deposit (\d+)/, (m) => `The deposit ${m[1]} is below the minimum of ${m[2]}.`, () => "deposit"],
  [/(\S+) already has an application or listing/, (m) => `${m[1]} has already applied or is listed.`],
  [/only (\S+) itself may apply for the address/, (m) => `An address can only be applied for by itself (${m[1]}).`, () => "subject"],
  [/the owner of (\S+) may not challenge it/, () => "You cannot challenge your own application."],
  [/(\S+) has an open challenge \(poll (\d+)\)/, (m) => `${m[1]} is already challenged (poll #${m[2]}).`],
  [/a challenge stake must be exactly (\d+), received (\d+)/, (m) => `A challenge needs a stake of exactly ${m[1]} (sent ${m[2]}).`],
  [/(\S+) has no application or listing/, (m) => `${m[1]} has not applied.`],
  [/poll (\d+): the commit period ended at/, (m) => `The commit period of poll #${m[1]} is over: votes can no longer be committed.`],
  [/poll (\d+): the reveal period runs from/, (m) => `Poll #${m[1]} is not in its reveal period now.`],
  [/voting weight (\d+) exceeds the voting balance (\d+)/, (m) => `You asked to vote with ${m[1]} but have ${m[2]} voting tokens: deposit more first.`, () => "weight"],
  [/the revealed choice and salt do not match/, () => "The choice and salt do not match your commitment (was this vote committed from another browser?)."],
  [/no vote committed by (\S+) in poll (\d+)/, (m) => `You have no committed vote in poll #${m[2]}.`],
  [/the vote in poll (\d+) is already revealed/, (m) => `Your vote in poll #${m[1]} is already revealed.`],
  [/poll (\d+) is not resolved yet/, (m) => `Poll #${m[1]} is not resolved yet: update the subject's status after the reveal period.`],
  [/the vote in poll (\d+) was on the losing side/, (m) => `Your vote in poll #${m[1]} lost: there is no reward.`],
  [/the reward of poll (\d+) is already claimed/, (m) => `You already claimed the reward of poll #${m[1]}.`],
  [/nothing to update for (\S+): (.*)$/, (m) => `Nothing to update for ${m[1]} yet: ${m[2]}.`],
  // value-contract
  [/task (\d+) is "?(\w+)"?: (.*?) is not possible now/, (m) => `Task #${m[1]} is ${m[2].toLowerCase()}: ${m[3]} is not possible at this stage.`],
  [/wrong bond for task (\d+): expected (\S+), received (.*)$/, (m) => `Confirming needs a bond of exactly ${m[2]} (sent ${m[3] || "nothing"}).`],
  [/wrong offer deposit for task (\d+): expected (\S+), received (.*)$/, (m) => `An offer needs a deposit of exactly ${m[2]} (sent ${m[3] || "nothing"}).`],
  [/(\S+) already has offer (\d+) on task (\d+)/, (m) => `You already made offer #${m[2]} on task #${m[3]}.`],
  [/(\S+) has no slot on task (\d+)/, (m) => `You were not matched on task #${m[2]}, so there is nothing to confirm.`],
  [/(\S+) already confirmed on task (\d+)/, (m) => `You already confirmed on task #${m[2]}.`],
  [/nothing to claim on task (\d+) for/, (m) => `Nothing to claim on task #${m[1]} for this account.`],
  [/template (\d+) is disabled/, (m) => `Template #${m[1]} is switched off.`],
  [/invalid task parameters: (.*)$/, (m) => `The task's parameters are not accepted: ${m[1]}.`],
  [/(\w+) must be (\d+) to (\d+), got (\d+)/, (m) => `${label(m[1])} must be ${m[2]} to ${m[3]} (got ${m[4]}).`, (m) => m[1]],
  [/(\w+) must be greater than zero/, (m) => `${label(m[1])} must be more than zero.`, (m) => m[1]],
  // payments and the chain
  [/No funds sent/i, () => "This needs funds attached, and none were sent."],
  [/Must send reserve token '(\S+)'/i, (m) => `This must be paid in ${m[1]}.`],
  [/insufficient funds/i, () => "The account does not have enough funds for this and its fee."],
  [/account .* not found/i, () => "This account has no funds on the chain yet (it has never received tokens)."],
  [/Failed to fetch|NetworkError|ECONNREFUSED/i, () => "The chain cannot be reached: is the localnet running?"],
  [/unauthorized|Caller is not the contract's current owner/i, () => "Only the contract's owner may do this."],
];

function label(field: string): string {
  const s = field.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Readable text and field for any error from a query or a transaction. */
export function explain(e: unknown): TxError {
  if (e instanceof TxError) return e;
  const raw = contractText(e);
  for (const [re, text, fieldOf] of RULES) {
    const m = re.exec(raw);
    if (m) return new TxError(text(m), raw, fieldOf ? fieldOf(m) : null);
  }
  return new TxError(raw, raw, null);
}
