/** The pages of the single-page app, by URL. Add a page: one line here (and a Flask page route). */
import { lazy } from "react";
import EditorPage from "./canvas/EditorPage";
import type { Route } from "./router";
import { WorkflowList } from "./workflows/WorkflowList";

const RunPage = lazy(() => import("./runs/RunPage"));
const ContactList = lazy(() => import("./contacts/ContactList"));
const ContactPage = lazy(() => import("./contacts/ContactPage"));
const ExplainPage = lazy(() => import("./explain/ExplainPage"));
const WakeupsPage = lazy(() => import("./wakeups/WakeupsPage"));

export const ROUTES: Route[] = [
  { pattern: "/workflows", component: WorkflowList },
  { pattern: "/workflows/:id", component: EditorPage },
  { pattern: "/workflows/:id/runs/:execution_id", component: RunPage },
  { pattern: "/contacts", component: ContactList },
  { pattern: "/contacts/:id", component: ContactPage },
  { pattern: "/contacts/:id/explain", component: ExplainPage },
  { pattern: "/wake-ups", component: WakeupsPage },
];
