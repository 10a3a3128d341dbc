/**
 * Where the browser keeps each channel's voucher key and stream record:
 * IndexedDB, one record per key (by public key), written before the open
 * transaction is sent — so a crash between the transaction and the answer
 * still leaves the key of the channel it opened, found again by matching
 * the channel's registered key. WebCrypto keys are stored as CryptoKey
 * objects (structured clone), which stay non-extractable.
 */

import type { KeyMaterial } from "./crypto";
import type { BuyerStream } from "./session";

export interface KeyRecord {
  /** The public key, hex: the record's key, and the channel's registered key. */
  pubkey: string;
  chainId: string;
  contract: string;
  registry: string;
  listingId: number;
  payer: string;
  payee: string;
  /** Set once the open transaction is answered. */
  channelId: number | null;
  material: KeyMaterial;
  /** The stream's durable record (null before the first chunk). */
  stream: BuyerStream | null;
  createdAt: number;
}

const DB = "wevalue-sdpp";
const STORE = "channel-keys";

export class StorageError extends Error {}

let db: Promise<IDBDatabase> | null = null;

function open(): Promise<IDBDatabase> {
  db ??= new Promise<IDBDatabase>((resolve, reject) => {
    if (typeof indexedDB === "undefined") {
      reject(new StorageError("this browser gives the page no IndexedDB, so a channel key could not outlive the page"));
      return;
    }
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "pubkey" });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new StorageError(`IndexedDB ${DB} could not be opened: ${req.error?.message ?? "unknown error"}`));
    req.onblocked = () => reject(new StorageError(`IndexedDB ${DB} is blocked by another tab of this app: close it and reload`));
  }).catch((e) => {
    db = null;
    throw e;
  });
  return db;
}

/** Runs one request in a transaction and resolves once the transaction is durable. */
async function run<T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const d = await open();
  return new Promise<T>((resolve, reject) => {
    const tx = d.transaction(STORE, mode, { durability: "strict" });
    const req = f(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(req.result);
    tx.onerror = () => reject(new StorageError(`IndexedDB: ${tx.error?.message ?? req.error?.message ?? "write failed"}`));
    tx.onabort = () => reject(new StorageError(`IndexedDB: ${tx.error?.message ?? "transaction aborted"}`));
  });
}

export const putKey = (rec: KeyRecord): Promise<IDBValidKey> => run("readwrite", (s) => s.put(rec));

export const getKey = (pubkey: string): Promise<KeyRecord | undefined> => run("readonly", (s) => s.get(pubkey) as IDBRequest<KeyRecord | undefined>);

export async function updateKey(pubkey: string, change: (r: KeyRecord) => void): Promise<KeyRecord> {
  const rec = await getKey(pubkey);
  if (!rec) throw new StorageError(`no stored key ${pubkey.slice(0, 12)}…`);
  change(rec);
  await putKey(rec);
  return rec;
}
