// The settings page: the tabs, one file each. An admin makes the channels usable (company
// phone numbers, mailboxes, the web-chat widget, workflows, webhooks, users, API tokens, the account); every
// agent has their own profile.

import { linkClick } from "../../lib/router";
import { useSession } from "../../stores/context";
import { Account } from "./Account";
import { Mailboxes } from "./Mailboxes";
import { PhoneNumbers } from "./PhoneNumbers";
import { Profile } from "./Profile";
import { Tokens } from "./Tokens";
import { Users } from "./Users";
import { WebChat } from "./WebChat";
import { Webhooks } from "./Webhooks";
import { Workflows } from "./Workflows";

const TABS: { id: string; name: string; admin?: boolean }[] = [
  { id: "profile", name: "Your profile" },
  { id: "phone-numbers", name: "Phone numbers" },
  { id: "mailboxes", name: "Mailboxes" },
  { id: "web-chat", name: "Web chat" },
  { id: "workflows", name: "Workflows" },
  { id: "webhooks", name: "Webhooks" },
  { id: "users", name: "Users" },
  { id: "tokens", name: "API tokens" },
  { id: "account", name: "Account", admin: true },
];

export function Settings({ tab, item }: { tab: string; item?: string }) {
  const session = useSession();
  const isAdmin = session.isAdmin.value;
  const tabs = TABS.filter((t) => !t.admin || isAdmin);
  const current = tabs.find((t) => t.id === tab) ?? tabs[0];
  return (
    <div class="settings">
      <nav class="settings-nav" aria-label="Settings">
        <h1 class="settings-title">Settings</h1>
        <ul>
          {tabs.map((t) => (
            <li key={t.id}>
              <a href={`/settings/${t.id}`} aria-current={t.id === current.id ? "page" : undefined} onClick={linkClick}>
                {t.name}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main class="settings-main" aria-labelledby="settings-heading">
        {current.id === "profile" && <Profile />}
        {current.id === "phone-numbers" && <PhoneNumbers admin={isAdmin} />}
        {current.id === "mailboxes" && <Mailboxes admin={isAdmin} />}
        {current.id === "web-chat" && <WebChat admin={isAdmin} />}
        {current.id === "workflows" && <Workflows admin={isAdmin} item={item} />}
        {current.id === "webhooks" && <Webhooks admin={isAdmin} />}
        {current.id === "users" && <Users admin={isAdmin} />}
        {current.id === "tokens" && <Tokens />}
        {current.id === "account" && <Account />}
      </main>
    </div>
  );
}
