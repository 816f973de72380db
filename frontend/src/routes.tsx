/** The pages of the single-page app, by URL. Add a page: one line here (and a Flask page route). */
import EditorPage from "./canvas/EditorPage";
import type { Route } from "./router";
import { WorkflowList } from "./workflows/WorkflowList";

export const ROUTES: Route[] = [
  { pattern: "/workflows", component: WorkflowList },
  { pattern: "/workflows/:id", component: EditorPage },
];
