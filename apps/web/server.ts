// The dashboard's HTTP server: Next's request handler (the `next build` output) behind a plain
// node:http server, which is what `next start` is, plus one thing Next cannot do: tell the API
// which socket a request came from. Next passes a client's own X-Forwarded-For and
// X-Forwarded-Proto on untouched, so here every request is stamped with the socket's address
// (see @sluice/api/peer), and the X-Forwarded-* headers of a client that is not a proxy
// listed in SLUICE_TRUSTED_PROXIES are dropped before Next sees them.
//
//   node apps/web/server.ts [--port 3000] [--host 127.0.0.1]
//   (or SLUICE_WEB_PORT / SLUICE_WEB_HOST; loopback unless told otherwise)

import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import next from "next";
import {
  PEER_HEADER,
  normalizeAddress,
  peerStamp,
  trustedProxiesFromEnv,
  trustsProxy,
} from "@sluice/api/peer";

const FORWARDED = [
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "x-forwarded-port",
  "x-real-ip",
];

/** Stamps the socket's address on the request; a client that is no trusted proxy forwards nothing. */
export function stampRequest(req: IncomingMessage, trustedProxies: readonly string[]): void {
  const peer = req.socket.remoteAddress;
  req.headers[PEER_HEADER] = peerStamp(peer);
  const addr = peer ? normalizeAddress(peer) : null;
  if (!addr || !trustsProxy(trustedProxies, addr))
    for (const h of FORWARDED) Reflect.deleteProperty(req.headers, h);
}

/**
 * The configuration `next build` resolved (as Next's own standalone server does): Next then
 * neither loads next.config nor validates and completes it again at every start, which is
 * part of the appliance's boot under emulation. Nothing when there is no build output.
 */
export function useBuiltConfig(dir: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.__NEXT_PRIVATE_STANDALONE_CONFIG) return true;
  let built: { config?: unknown };
  try {
    built = JSON.parse(readFileSync(join(dir, ".next", "required-server-files.json"), "utf8")) as {
      config?: unknown;
    };
  } catch {
    return false;
  }
  if (!built.config || typeof built.config !== "object") return false;
  env.__NEXT_PRIVATE_STANDALONE_CONFIG = JSON.stringify(built.config);
  return true;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: "string", short: "p" }, host: { type: "string", short: "H" } },
  });
  const port = Number(values.port ?? process.env.SLUICE_WEB_PORT ?? 3000);
  const host = values.host ?? process.env.SLUICE_WEB_HOST ?? "127.0.0.1";
  const trusted = trustedProxiesFromEnv(process.env);
  const dir = dirname(fileURLToPath(import.meta.url));
  useBuiltConfig(dir);
  const app = next({ dev: false, dir, hostname: host, port });
  const handle = app.getRequestHandler();
  await app.prepare();
  const server = createServer((req, res) => {
    stampRequest(req, trusted);
    void handle(req, res);
  });
  server.listen(port, host, () => console.log(`[web] listening on http://${host}:${port}`));
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections(); // keep-alive clients would hold the close open
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
