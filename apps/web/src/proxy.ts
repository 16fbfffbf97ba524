// Content Security Policy with a fresh nonce per request. Next reads the policy from the
// request headers and puts the nonce on its own scripts; the root layout gives it to
// Mantine's colour-scheme script. Scripts run only with the nonce (and what they load,
// 'strict-dynamic'); styles may be inline (Mantine sets CSS variables and style props).
// Nothing is loaded from elsewhere; the page cannot be framed.

import { NextResponse, type NextRequest } from "next/server";

export function proxy(request: NextRequest) {
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  const dev = process.env.NODE_ENV === "development";
  const csp = [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
  const headers = new Headers(request.headers);
  headers.set("x-nonce", nonce);
  headers.set("content-security-policy", csp);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set("content-security-policy", csp);
  return response;
}

export const config = {
  // Pages only: not the API route, not static assets. Prefetches too (a request that says
  // "purpose: prefetch" is still a page a browser may render).
  matcher: ["/((?!api/|_next/static|_next/image|favicon.ico).*)"],
};
