/** The app shell: picks the page for the current URL from ROUTES. */
import { Suspense } from "react";
import { resolve, usePath } from "./router";
import { ROUTES } from "./routes";
import { ErrorBoundary } from "./ui/ErrorBoundary";

export function App() {
  const path = usePath();
  const match = resolve(ROUTES, path === "/" ? "/workflows" : path);
  if (!match) {
    return (
      <div className="page-message">
        <h1>Page not found</h1>
        <p>
          <a href="/workflows">Back to the workflows</a>
        </p>
      </div>
    );
  }
  const Page = match.route.component;
  return (
    <ErrorBoundary key={path}>
      <Suspense fallback={<div className="page-message muted">Loading…</div>}>
        <Page params={match.params} />
      </Suspense>
    </ErrorBoundary>
  );
}
