// Settings → Account (admins): what a contact's STOP applies to.

import { useState } from "preact/hooks";
import { api, type AccountOut } from "../../api";
import { errorText } from "../../lib/errors";
import { useSession } from "../../stores/context";
import { Section } from "./common";

export function Account() {
  const session = useSession();
  const account = session.session.value?.account;
  const [scope, setScope] = useState<AccountOut["sms_opt_out_scope"]>(account?.sms_opt_out_scope ?? "account");
  const [msg, setMsg] = useState<string | null>(null);
  async function save(v: AccountOut["sms_opt_out_scope"]) {
    setScope(v);
    try {
      await api.account.update({ sms_opt_out_scope: v });
      setMsg("Saved.");
    } catch (err) {
      setMsg(errorText(err));
    }
  }
  return (
    <Section title="Account" intro={account?.name}>
      <fieldset class="card radio-group">
        <legend class="section-title">When a contact texts STOP</legend>
        <label class="radio">
          <input type="radio" name="scope" checked={scope === "account"} onChange={() => void save("account")} />
          <span>Stop texting them from every company number (recommended)</span>
        </label>
        <label class="radio">
          <input type="radio" name="scope" checked={scope === "number"} onChange={() => void save("number")} />
          <span>Stop texting them only from the number they replied STOP to</span>
        </label>
        {msg ? <p class="saved-note" role="status">{msg}</p> : null}
      </fieldset>
    </Section>
  );
}
