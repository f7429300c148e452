// One way to call the SimRenew API from both pages: JSON in and out, the documented error
// shape turned into ApiError, and network trouble told apart from an answer.

export class ApiError extends Error {
  constructor(
    readonly status: number, // 0: no answer reached us (offline, timeout)
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  rawBody?: BodyInit;
  contentType?: string;
  key?: string | null;
  idempotencyKey?: string;
  accept?: string;
  timeoutMs?: number;
}

export function newIdempotencyKey(): string {
  if (typeof crypto !== "undefined" && "randomUUID" in crypto) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

async function send(path: string, opts: CallOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: opts.accept ?? "application/json" };
  let body: BodyInit | undefined;
  if (opts.rawBody !== undefined) {
    body = opts.rawBody;
    headers["Content-Type"] = opts.contentType ?? "text/csv";
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["Content-Type"] = "application/json";
  }
  if (opts.key) headers.Authorization = `Bearer ${opts.key}`;
  if (opts.idempotencyKey) headers["Idempotency-Key"] = opts.idempotencyKey;
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), opts.timeoutMs ?? 30000);
  try {
    return await fetch(path, { method: opts.method ?? "GET", headers, body, signal: ctrl.signal });
  } catch {
    throw new ApiError(0, "network", "network");
  } finally {
    clearTimeout(timer);
  }
}

async function failure(res: Response): Promise<ApiError> {
  let code = `http_${res.status}`;
  let message = res.statusText || code;
  let field: string | undefined;
  try {
    const data = await res.json();
    if (data && typeof data.error === "object" && data.error) {
      code = String(data.error.code ?? code);
      message = String(data.error.message ?? message);
      field = data.error.field ? String(data.error.field) : undefined;
    }
  } catch {
    /* not JSON: keep the status line */
  }
  const retry = Number(res.headers.get("Retry-After"));
  return new ApiError(res.status, code, message, field, Number.isFinite(retry) && retry > 0 ? retry : undefined);
}

export async function call<T>(path: string, opts: CallOptions = {}): Promise<T> {
  const res = await send(path, opts);
  if (!res.ok) throw await failure(res);
  if (res.status === 204) return undefined as T;
  const type = res.headers.get("Content-Type") ?? "";
  return (type.includes("json") ? await res.json() : await res.text()) as T;
}

/** The same call, answered as a Blob (CSV downloads). */
export async function download(path: string, opts: CallOptions = {}): Promise<Blob> {
  const res = await send(path, opts);
  if (!res.ok) throw await failure(res);
  return await res.blob();
}

// What usePaged needs of a list answer: every generated page type (TerminalPage, OrderPage ... in
// common/types.ts) has this shape. Not an answer's declaration: views name the generated page type.
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
  total?: number | null; // lists that count (terminals, merchants, orders): null where too many to count
}
