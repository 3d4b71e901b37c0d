// What to tell a person when a request failed.

import { ApiError } from "../api";

/** The server's own message for its errors; a plain sentence when the network failed. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error && err.name === "TypeError") return "Cannot reach the server. Check your connection.";
  return err instanceof Error ? err.message : String(err);
}
