/**
 * The older versions whose waiting runs the user has already decided about (let them finish, or
 * move them), per workflow. After a save the dialog asks only about runs on versions it has not
 * asked about: runs never start on an older version, so a version asked about once has no new
 * waiting runs to ask about later. Kept in localStorage, so the choice holds across reloads.
 */
import type { WaitingVersions } from "./PublishDialog";

type Store = Pick<Storage, "getItem" | "setItem">;

const key = (workflowId: number) => `flowmarket.waitingRunsAsked.${workflowId}`;

function storage(): Store | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // storage disabled: the dialog asks every time, as before
  }
}

export function askedVersions(workflowId: number, store: Store | null = storage()): Set<number> {
  try {
    const list = JSON.parse(store?.getItem(key(workflowId)) ?? "[]");
    return new Set(Array.isArray(list) ? list.filter((v): v is number => Number.isInteger(v)) : []);
  } catch {
    return new Set();
  }
}

export function rememberAsked(workflowId: number, versions: number[], store: Store | null = storage()): void {
  const all = [...new Set([...askedVersions(workflowId, store), ...versions])].sort((a, b) => a - b);
  try {
    store?.setItem(key(workflowId), JSON.stringify(all));
  } catch {
    /* quota or private mode: forget it */
  }
}

/** The older versions listed in a waiting report (the ones the dialog is about). */
export function olderVersions(w: WaitingVersions): number[] {
  return w.versions.filter((v) => v.version !== w.current_version).map((v) => v.version);
}

/**
 * The report cut down to the versions not asked about yet, or null when none of them has a
 * waiting run (nothing to ask).
 */
export function unasked(w: WaitingVersions, asked: Set<number>): WaitingVersions | null {
  const versions = w.versions.filter((v) => v.version === w.current_version || !asked.has(v.version));
  const left = versions.some((v) => v.version !== w.current_version && v.waiting > 0);
  return left ? { ...w, versions } : null;
}
