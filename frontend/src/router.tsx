/**
 * A small history-API router: `ROUTES` maps URL patterns to page components (add a line for a
 * new page), `navigate(path)` changes page, `<Link>` renders an in-app anchor, and
 * `setLeaveGuard` lets a page ask before leaving (unsaved changes).
 */
import { type AnchorHTMLAttributes, type ComponentType, useSyncExternalStore } from "react";

export type Params = Record<string, string>;

export interface Route {
  pattern: string;
  component: ComponentType<{ params: Params }>;
}

let guard: (() => string | null) | null = null;

/** While set, navigating away asks for confirmation when `check()` returns a message. */
export function setLeaveGuard(check: (() => string | null) | null): void {
  guard = check;
}

function allowedToLeave(): boolean {
  const message = guard?.();
  return !message || window.confirm(message);
}

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (path === window.location.pathname + window.location.search) return;
  if (!allowedToLeave()) return;
  if (options.replace) window.history.replaceState(null, "", path);
  else window.history.pushState(null, "", path);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

function subscribe(callback: () => void): () => void {
  window.addEventListener("popstate", callback);
  return () => window.removeEventListener("popstate", callback);
}

export function usePath(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname);
}

/** Match `/workflows/:id` against a path; the named segments, or null. */
export function matchPath(pattern: string, path: string): Params | null {
  const want = pattern.split("/").filter(Boolean);
  const have = path.split("/").filter(Boolean);
  if (want.length !== have.length) return null;
  const params: Params = {};
  for (let i = 0; i < want.length; i += 1) {
    if (want[i].startsWith(":")) params[want[i].slice(1)] = decodeURIComponent(have[i]);
    else if (want[i] !== have[i]) return null;
  }
  return params;
}

export function resolve(routes: Route[], path: string): { route: Route; params: Params } | null {
  for (const route of routes) {
    const params = matchPath(route.pattern, path);
    if (params) return { route, params };
  }
  return null;
}

export function Link({ href, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  return (
    <a
      href={href}
      {...rest}
      onClick={(event) => {
        rest.onClick?.(event);
        if (event.defaultPrevented || event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        navigate(href);
      }}
    />
  );
}
