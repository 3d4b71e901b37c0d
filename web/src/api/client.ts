// A small fetch wrapper: JSON in and out, the session cookie, the CSRF header on every
// non-GET request, the Idempotency-Key of a create that may be retried, and errors turned
// into ApiError with the server's stable `code`.

/** The body of every error answer: a stable code, a message, and what it is about. */
export interface ApiErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, body: ApiErrorBody) {
    super(body.message || body.code || `HTTP ${status}`);
    this.status = status;
    this.code = body.code || "http_error";
    this.details = body.details;
  }

  /** The message for one form field, if the server pinned the error to it. */
  fieldErrors(): Record<string, string> {
    return fieldErrorsOf(this);
  }
}

/** Maps `{details: {field}}` or `{details: [{loc|field, msg|message}]}` to field → message. */
export function fieldErrorsOf(err: ApiError): Record<string, string> {
  const out: Record<string, string> = {};
  const d = err.details as unknown;
  const add = (field: unknown, msg: unknown) => {
    if (field == null) return;
    const key = Array.isArray(field)
      ? field.filter((p) => p !== "body").join(".")
      : String(field);
    if (!(key in out)) out[key] = String(msg ?? err.message);
  };
  if (Array.isArray(d)) {
    for (const item of d) {
      if (item && typeof item === "object") {
        const o = item as Record<string, unknown>;
        add(o.field ?? o.loc, o.message ?? o.msg);
      }
    }
  } else if (d && typeof d === "object") {
    const o = d as Record<string, unknown>;
    if ("field" in o) add(o.field, err.message);
    if (Array.isArray(o.errors)) {
      for (const item of o.errors as Record<string, unknown>[]) add(item.field ?? item.loc, item.message ?? item.msg);
    }
    if (Array.isArray(o.fields)) {
      for (const item of o.fields as Record<string, unknown>[]) add(item.field ?? item.loc, item.message ?? item.msg);
    }
  }
  return out;
}

let csrfToken = "";
let onUnauthorized: (() => void) | null = null;

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

export function setUnauthorizedHandler(fn: (() => void) | null): void {
  onUnauthorized = fn;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export async function request<T>(
  method: string,
  path: string,
  options: {
    body?: unknown;
    query?: Query;
    form?: FormData;
    signal?: AbortSignal;
    /** Sent again with a retry: the server then answers it as it answered the first. */
    idempotencyKey?: string;
  } = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  let body: BodyInit | undefined;
  if (options.form) {
    body = options.form;
  } else if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
  const res = await fetch(withQuery(`/api/v1${path}`, options.query), {
    method,
    headers,
    body,
    credentials: "same-origin",
    signal: options.signal,
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { code: "bad_response", message: text.slice(0, 200) };
    }
  }
  if (!res.ok) {
    const errBody =
      data && typeof data === "object" && "code" in (data as object)
        ? (data as ApiErrorBody)
        : {
            code: "http_error",
            message:
              (data as { detail?: string } | undefined)?.detail?.toString() ||
              `The server answered ${res.status}.`,
          };
    const err = new ApiError(res.status, errBody);
    if (res.status === 401 && onUnauthorized && !path.startsWith("/auth/")) onUnauthorized();
    throw err;
  }
  return data as T;
}

export const http = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) =>
    request<T>("GET", path, { query, signal }),
  post: <T>(path: string, body?: unknown, idempotencyKey?: string) =>
    request<T>("POST", path, { body: body ?? {}, idempotencyKey }),
  patch: <T>(path: string, body: unknown) => request<T>("PATCH", path, { body }),
  put: <T>(path: string, body: unknown) => request<T>("PUT", path, { body }),
  del: <T = void>(path: string) => request<T>("DELETE", path),
  upload: <T>(method: string, path: string, form: FormData) => request<T>(method, path, { form }),
};
