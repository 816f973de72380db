/** `/contacts`: every contact, searchable by name, e-mail, phone or external id. */
import { useEffect, useState } from "react";
import { itemsOf } from "../api";
import { Link } from "../router";
import { runsApi, type Contact } from "../runs/api";
import { clock } from "../runs/format";
import { contactName } from "./ContactPage";
import "./contacts.css";

export default function ContactList() {
  const [search, setSearch] = useState("");
  const [contacts, setContacts] = useState<Contact[] | null>(null);
  const [count, setCount] = useState(0);
  useEffect(() => {
    const timer = setTimeout(() => {
      runsApi.contacts({ search: search.trim() || undefined, page_size: 100 }).then((page) => {
        setContacts(itemsOf(page));
        setCount(page.count ?? 0);
      }, () => setContacts([]));
    }, 200);
    return () => clearTimeout(timer);
  }, [search]);
  return (
    <div className="page contact-list">
      <div className="page-head">
        <h1>Contacts <span className="muted small">{count}</span></h1>
        <input type="search" placeholder="Search name, e-mail, phone, id" aria-label="Search contacts"
          value={search} onChange={(e) => setSearch(e.target.value)} />
      </div>
      {contacts === null ? <p className="muted">Loading…</p> : contacts.length === 0 ? (
        <p className="muted card">No contacts found.</p>
      ) : (
        <table className="grid" id="contact-table">
          <thead><tr><th>Name</th><th>External id</th><th>Channel</th><th>Tags</th><th>Created</th></tr></thead>
          <tbody>
            {contacts.map((c) => (
              <tr key={c.id}>
                <td dir="auto"><Link href={`/contacts/${c.id}`}>{contactName(c)}</Link></td>
                <td>{c.external_id}</td>
                <td>{c.channel ?? "–"}</td>
                <td>{(c.tags ?? []).map((t) => <span key={String(t)} className="tag-chip" dir="auto">{String(t)}</span>)}</td>
                <td>{clock(c.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
