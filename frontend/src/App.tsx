/** The app shell: picks the page for the current URL from ROUTES. */
import { Suspense } from "react";
import { resolve, usePath } from "./router";
import { ROUTES } from "./routes";

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
    <Suspense fallback={<div className="page-message muted">Loading…</div>}>
      <Page key={path} params={match.params} />
    </Suspense>
  );
}
