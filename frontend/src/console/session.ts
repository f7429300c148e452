// The signed-in API key: kept in sessionStorage only (gone when the tab closes, never in a URL),
// with what we learnt about it at sign-in (admin or not, the agent's name).
import { ApiError, call, download, type CallOptions } from "../common/api";
import type { Me } from "../common/types";

const STORE = "simrenew.console.session";

export type Role = "admin" | "staff" | "readonly" | "finance";

export interface Session {
  key: string;
  role: Role;
  admin: boolean;
  agentName: string | null;
  keyId: string | null;
  servicePhone?: string | null;
  /** The agent's IANA time zone (its reports' days); absent in sessions kept from before. */
  timezone?: string | null;
}

/** Staff and admin change data; readonly and finance keys only look (finance also sees the money reports). */
export function canWrite(s: Session | null): boolean {
  return s?.role === "staff" || s?.role === "admin";
}

type Listener = (s: Session | null, why?: string) => void;
const listeners = new Set<Listener>();
let current: Session | null = load();

function load(): Session | null {
  try {
    const raw = sessionStorage.getItem(STORE);
    if (!raw) return null;
    const data = JSON.parse(raw) as Session;
    return typeof data.key === "string" && data.key && data.role ? data : null;
  } catch {
    return null;
  }
}

export function session(): Session | null {
  return current;
}

export function onSession(f: Listener): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

function set(s: Session | null, why?: string): void {
  current = s;
  try {
    if (s) sessionStorage.setItem(STORE, JSON.stringify(s));
    else sessionStorage.removeItem(STORE);
  } catch {
    /* storage blocked: the session lives in memory only */
  }
  listeners.forEach((f) => f(s, why));
}

/** Check a pasted key with GET /v1/me: who it is (agent, role) whatever its role. */
export async function signIn(rawKey: string): Promise<Session> {
  const key = rawKey.trim();
  const me = await call<Me>("/v1/me", { key });
  const s: Session = {
    key,
    role: me.role,
    admin: me.role === "admin",
    agentName: me.agent_name,
    keyId: me.key_id,
    servicePhone: me.service_phone ?? null,
    timezone: me.timezone ?? null,
  };
  set(s);
  return s;
}

export function signOut(why?: string): void {
  set(null, why);
}

/** The API with the session's key; a 401 (key revoked, agent suspended) ends the session. */
export async function api<T>(path: string, opts: CallOptions = {}): Promise<T> {
  try {
    return await call<T>(path, { ...opts, key: current?.key });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401 && current) signOut(e.code);
    throw e;
  }
}

export async function apiBlob(path: string, opts: CallOptions = {}): Promise<Blob> {
  try {
    return await download(path, { ...opts, key: current?.key });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401 && current) signOut(e.code);
    throw e;
  }
}
