// The account's users, for assignee names and avatars; fetched once when the inbox starts
// (Settings → Users puts its fresh list here after an edit).

import { computed, signal } from "@preact/signals";
import { api, type UserOut } from "../api";

export function createUsersStore() {
  const list = signal<UserOut[]>([]);
  const byId = computed(() => {
    const map: Record<number, UserOut> = {};
    for (const u of list.value) map[u.id] = u;
    return map;
  });

  function load() {
    void api.users.list().then((u) => (list.value = u)).catch(() => undefined);
  }

  return { list, byId, load };
}

export type UsersStore = ReturnType<typeof createUsersStore>;
