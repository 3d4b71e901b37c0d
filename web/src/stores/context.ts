import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { InboxStore } from "./inbox";
import type { SessionStore } from "./session";

export const SessionContext = createContext<SessionStore | null>(null);
export const InboxContext = createContext<InboxStore | null>(null);

export function useSession(): SessionStore {
  const s = useContext(SessionContext);
  if (!s) throw new Error("SessionContext missing");
  return s;
}

export function useInbox(): InboxStore {
  const s = useContext(InboxContext);
  if (!s) throw new Error("InboxContext missing");
  return s;
}
