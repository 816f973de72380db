/** The header of a side panel: optional icon, title and subtitle, a close button. */
import { X } from "lucide-react";
import type { ReactNode } from "react";

export function PanelHeader({ icon, title, subtitle, onClose }: { icon?: ReactNode; title: ReactNode; subtitle: ReactNode; onClose: () => void }) {
  return (
    <header className="panel-head">
      {icon}
      <div className="panel-title">
        <strong>{title}</strong>
        <span className="muted small">{subtitle}</span>
      </div>
      <button className="icon-btn" aria-label="Close panel" onClick={onClose}>
        <X size={16} />
      </button>
    </header>
  );
}
