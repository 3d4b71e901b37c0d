// Who is logged in. The session cookie is HttpOnly; we keep the CSRF token in memory
// and get it again from /auth/me after a reload.

import { computed, signal } from "@preact/signals";
import { api, ApiError, setCsrfToken, setUnauthorizedHandler, type SessionOut, type UserOut } from "../api";

export type SessionStatus = "loading" | "anonymous" | "authenticated";

export function createSessionStore() {
  const session = signal<SessionOut | null>(null);
  const status = signal<SessionStatus>("loading");
  const user = computed<UserOut | null>(() => session.value?.user ?? null);
  const isAdmin = computed(() => session.value?.user.role === "admin");

  function set(s: SessionOut | null) {
    session.value = s;
    setCsrfToken(s?.csrf_token ?? "");
    status.value = s ? "authenticated" : "anonymous";
  }

  setUnauthorizedHandler(() => set(null));

  async function restore(): Promise<void> {
    try {
      set(await api.auth.me());
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) set(null);
      else {
        // Server unreachable: show the login page rather than a blank screen.
        set(null);
      }
    }
  }

  async function login(email: string, password: string): Promise<void> {
    set(await api.auth.login(email, password));
  }

  async function logout(): Promise<void> {
    try {
      await api.auth.logout();
    } finally {
      set(null);
    }
  }

  function updateUser(u: UserOut) {
    if (session.value && session.value.user.id === u.id) session.value = { ...session.value, user: u };
  }

  return { session, status, user, isAdmin, restore, login, logout, updateUser };
}

export type SessionStore = ReturnType<typeof createSessionStore>;
