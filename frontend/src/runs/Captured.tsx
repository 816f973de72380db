/**
 * What a test run "sent": chat messages as Telegram-like bubbles (each `dir="auto"`, so Persian
 * reads right to left) and e-mails as an inbox preview. Nothing here was delivered.
 */
import { useState } from "react";
import type { CapturedMessage } from "./api";

function Bubble({ message }: { message: CapturedMessage }) {
  return (
    <div className="chat-bubble" data-node-id={message.node_id ?? undefined}>
      <div className="chat-text" dir="auto">{message.text}</div>
      <div className="chat-meta">
        {message.channel} · {message.node_id} <span aria-hidden>✓✓</span>
      </div>
    </div>
  );
}

function Mail({ message }: { message: CapturedMessage }) {
  const [open, setOpen] = useState(false);
  const body = message.body ?? message.text ?? "";
  return (
    <li className={open ? "inbox-item open" : "inbox-item"} data-node-id={message.node_id ?? undefined}>
      <button type="button" className="inbox-head" onClick={() => setOpen(!open)}>
        <span className="inbox-to">{message.to || "(contact)"}</span>
        <span className="inbox-subject" dir="auto">{message.subject || "(no subject)"}</span>
        <span className="inbox-snippet" dir="auto">{body.slice(0, 80)}</span>
      </button>
      {open && (message.html ? (
        <iframe className="inbox-body" title={message.subject ?? "e-mail"} sandbox="" srcDoc={body} />
      ) : (
        <pre className="inbox-body" dir="auto">{body}</pre>
      ))}
    </li>
  );
}

export function Captured({ messages }: { messages: CapturedMessage[] }) {
  const chats = messages.filter((m) => m.channel !== "email");
  const mails = messages.filter((m) => m.channel === "email");
  if (messages.length === 0) return <p className="muted">This run sent no messages.</p>;
  return (
    <div className="captured">
      {chats.length > 0 && (
        <section className="chat" aria-label="Messages">
          <h4>Messages</h4>
          <div className="chat-scroll">{chats.map((m, i) => <Bubble key={i} message={m} />)}</div>
        </section>
      )}
      {mails.length > 0 && (
        <section className="inbox" aria-label="E-mails">
          <h4>Inbox preview</h4>
          <ul>{mails.map((m, i) => <Mail key={i} message={m} />)}</ul>
        </section>
      )}
    </div>
  );
}
