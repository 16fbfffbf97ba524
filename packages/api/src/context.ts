// The per-request context: what the server knows about the request (client address,
// origin, cookies, the CSRF header), a way to set cookies on the response, and the signed-in
// user if the session cookie is valid. Built by the route handler (fetch.ts) or by tests.

import type { PublicUser, SessionInfo } from "@sluice/db";
import type { ApiDeps } from "./deps.ts";
import { CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, parseCookies, serializeCookie } from "./auth/cookies.ts";
import { clientOf, forwardedProto } from "./http/client-address.ts";

export interface RequestMeta {
  /** The client's address (see http/client-address.ts), "unknown" when not known. */
  ip: string;
  userAgent: string | null;
  origin: string | null;
  /** The Host header (host[:port]). */
  host: string | null;
  /** Served over https: cookies get the Secure flag. */
  secure: boolean;
  cookies: { session?: string | undefined; csrf?: string | undefined };
  csrfHeader: string | null;
}

export interface ResponseMeta {
  /** Adds a Set-Cookie header to the response. */
  setCookie(header: string): void;
}

export interface AuthInfo {
  user: PublicUser;
  session: SessionInfo;
  /** The cookie token (to sign this session out). */
  token: string;
}

export interface Context {
  deps: ApiDeps;
  req: RequestMeta;
  res: ResponseMeta;
  auth: AuthInfo | null;
}

export async function createContext(deps: ApiDeps, req: RequestMeta, res: ResponseMeta): Promise<Context> {
  let auth: AuthInfo | null = null;
  const token = req.cookies.session;
  if (token) {
    const found = await deps.db.sessions.validate(token, {
      idleTimeoutMs: deps.config.idleTimeoutMs,
      slidingTtlMs: deps.config.sessionTtlMs,
    });
    if (found) auth = { ...found, token };
  }
  return { deps, req, res, auth };
}

/**
 * Builds RequestMeta from a fetch Request (the Next route handler's). The client address and
 * https come from the socket, or from a proxy listed in SLUICE_TRUSTED_PROXIES
 * (http/client-address.ts): a client's own X-Forwarded-For or X-Forwarded-Proto counts for
 * nothing.
 */
export function requestMetaOf(req: Request, trustedProxies: readonly string[]): RequestMeta {
  const h = req.headers;
  const client = clientOf(h, trustedProxies);
  const cookies = parseCookies(h.get("cookie"));
  return {
    ip: client.ip,
    userAgent: h.get("user-agent"),
    origin: h.get("origin"),
    host: h.get("host"),
    secure: forwardedProto(h, client) === "https",
    cookies: { session: cookies[SESSION_COOKIE], csrf: cookies[CSRF_COOKIE] },
    csrfHeader: h.get(CSRF_HEADER),
  };
}

export function sessionCookie(req: RequestMeta, token: string, maxAgeSeconds: number): string {
  return serializeCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    secure: req.secure,
    maxAge: maxAgeSeconds,
  });
}

export function clearSessionCookie(req: RequestMeta): string {
  return serializeCookie(SESSION_COOKIE, "", { httpOnly: true, secure: req.secure, maxAge: 0 });
}

export function csrfCookie(req: RequestMeta, token: string): string {
  return serializeCookie(CSRF_COOKIE, token, { httpOnly: false, secure: req.secure });
}
