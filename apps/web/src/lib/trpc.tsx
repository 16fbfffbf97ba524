"use client";
// The browser side of tRPC: react-query hooks over /api/trpc, every request with the CSRF
// header (the value of the sluice_csrf cookie). A session that ended sends the page to the
// sign-in form.

import { useEffect, useState, type ReactNode } from "react";
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink, httpLink, splitLink, TRPCClientError } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import type { AppRouter, FieldIssue } from "@sluice/api/client";

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

export function readCookie(name: string): string | null {
  if (typeof document === "undefined") return null;
  for (const part of document.cookie.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return null;
}

/** tRPC error code of an error (UNAUTHORIZED, BAD_REQUEST, SERVICE_UNAVAILABLE, …). */
export function errorCode(e: unknown): string | null {
  return e instanceof TRPCClientError ? ((e.data as { code?: string } | undefined)?.code ?? null) : null;
}

/** The field issues of a BAD_REQUEST (paths like "classes.upload[2].ceil"). */
export function errorIssues(e: unknown): FieldIssue[] {
  if (!(e instanceof TRPCClientError)) return [];
  return ((e.data as { issues?: FieldIssue[] } | undefined)?.issues ?? []) as FieldIssue[];
}

const csrfHeader = () => ({ "x-csrf-token": readCookie("sluice_csrf") ?? "" });

function onAuthError(e: unknown): void {
  if (
    errorCode(e) === "UNAUTHORIZED" &&
    typeof window !== "undefined" &&
    !/^\/(login|setup)/.test(location.pathname)
  )
    location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
}

export function Providers({ children }: { children: ReactNode }) {
  const [queryClient] = useState(
    () =>
      new QueryClient({
        queryCache: new QueryCache({ onError: onAuthError }),
        mutationCache: new MutationCache({ onError: onAuthError }),
        defaultOptions: {
          queries: {
            refetchOnWindowFocus: false,
            staleTime: 2_000,
            retry: (n, e) =>
              n < 1 &&
              !["UNAUTHORIZED", "FORBIDDEN", "BAD_REQUEST", "SERVICE_UNAVAILABLE"].includes(
                errorCode(e) ?? "",
              ),
          },
        },
      }),
  );
  const [trpcClient] = useState(() =>
    createTRPCClient<AppRouter>({
      links: [
        // The server refuses sign-in and password calls inside a batch: they go alone.
        splitLink({
          condition: (op) =>
            op.type === "mutation" && (op.path.startsWith("auth.") || op.path === "users.changePassword"),
          true: httpLink({ url: "/api/trpc", headers: csrfHeader }),
          false: httpBatchLink({ url: "/api/trpc", headers: csrfHeader }),
        }),
      ],
    }),
  );
  // Marks the page as interactive: browser tests wait for it before they type or pick files
  // (an event fired into server-rendered HTML before hydration is lost).
  useEffect(() => {
    document.documentElement.dataset.hydrated = "";
  }, []);
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}
