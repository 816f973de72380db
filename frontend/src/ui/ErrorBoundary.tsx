/** Shows a crashed view's error with a reload button instead of a blank page. */
import { Component, type ReactNode } from "react";

export class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  state = { error: null as Error | null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="page-message" role="alert" id="app-error">
        <h2>Something went wrong</h2>
        <pre>{String(this.state.error.stack ?? this.state.error)}</pre>
        <button className="btn" onClick={() => window.location.reload()}>
          Reload
        </button>
      </div>
    );
  }
}
