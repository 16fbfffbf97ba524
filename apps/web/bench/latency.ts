// Dashboard latency: page loads (server-rendered HTML) and tRPC calls, p50/p95/max over N
// requests each, against a running server. Prints numbers; asserts nothing.
//
//   node apps/web/bench/latency.ts                       # own server: test agent (real agent, in-memory kernel) + server.ts
//   SLUICE_WEB_URL=http://127.0.0.1:3000 SLUICE_BENCH_USER=admin SLUICE_BENCH_PASSWORD=… \
//     node apps/web/bench/latency.ts                     # a running dashboard (the lab's)
//
// A server that still needs its first admin gets one (the bench user). Only loopback or the
// given URL is contacted; every loop is bounded.

import { startServer } from "../test/helpers/server.ts";

const N_PAGE = Number(process.env.SLUICE_BENCH_PAGES ?? 30);
const N_CALL = Number(process.env.SLUICE_BENCH_CALLS ?? 60);
const USER = process.env.SLUICE_BENCH_USER ?? "bench";
const PASSWORD = process.env.SLUICE_BENCH_PASSWORD ?? "bench-password";

const state: { cleanup: (() => Promise<void>) | null } = { cleanup: null };

async function ownServer(): Promise<string> {
  console.log(
    "# no SLUICE_WEB_URL: starting a test agent (real agent, in-memory kernel) and the dashboard server on a free port",
  );
  const srv = await startServer({ name: "bench", sampleMs: 1000 });
  state.cleanup = srv.stop;
  return srv.base;
}

class Session {
  readonly base: string;
  private cookies = new Map<string, string>();
  constructor(base: string) {
    this.base = base;
  }
  private header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
  private keep(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const i = pair!.indexOf("=");
      const v = pair!.slice(i + 1);
      if (/max-age=0/i.test(c)) this.cookies.delete(pair!.slice(0, i));
      else this.cookies.set(pair!.slice(0, i), v);
    }
  }
  async get(path: string): Promise<Response> {
    const res = await fetch(this.base + path, { headers: { cookie: this.header() }, redirect: "manual" });
    this.keep(res);
    return res;
  }
  async query(proc: string, input?: unknown): Promise<unknown> {
    const q = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`;
    const res = await this.get(`/api/trpc/${proc}${q}`);
    const body = (await res.json()) as { result?: { data: unknown }; error?: { message: string } };
    if (!res.ok) throw new Error(`${proc}: ${res.status} ${body.error?.message ?? ""}`);
    return body.result?.data;
  }
  async mutate(proc: string, input: unknown): Promise<unknown> {
    const res = await fetch(`${this.base}/api/trpc/${proc}`, {
      method: "POST",
      headers: {
        cookie: this.header(),
        "content-type": "application/json",
        "x-csrf-token": decodeURIComponent(this.cookies.get("sluice_csrf") ?? ""),
        origin: this.base,
      },
      body: JSON.stringify(input),
    });
    this.keep(res);
    const body = (await res.json()) as { result?: { data: unknown }; error?: { message: string } };
    if (!res.ok) throw new Error(`${proc}: ${res.status} ${body.error?.message ?? ""}`);
    return body.result?.data;
  }
}

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return `p50 ${q(0.5).toFixed(1).padStart(7)} ms   p95 ${q(0.95).toFixed(1).padStart(7)} ms   max ${s.at(-1)!.toFixed(1).padStart(7)} ms`;
}

async function time(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  await fn(); // warm-up
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

async function main(): Promise<void> {
  const base = process.env.SLUICE_WEB_URL ?? (await ownServer());
  const s = new Session(base);
  const session = (await s.query("auth.getSession")) as { needsSetup: boolean };
  if (session.needsSetup) await s.mutate("auth.setupAdmin", { username: USER, password: PASSWORD });
  else await s.mutate("auth.login", { username: USER, password: PASSWORD });
  console.log(
    `# ${base}, signed in as ${USER}; ${N_PAGE} page loads and ${N_CALL} calls each, one at a time`,
  );

  console.log("\npage loads (server-rendered HTML)");
  for (const path of ["/", "/classes", "/rules", "/protocols", "/apply", "/flows", "/settings"]) {
    const ms = await time(N_PAGE, async () => {
      const res = await s.get(path);
      if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
      await res.text();
    });
    console.log(`  ${path.padEnd(28)} ${stats(ms)}`);
  }

  console.log("\ntRPC calls");
  const calls: [string, () => Promise<unknown>][] = [
    ["auth.getSession", () => s.query("auth.getSession")],
    ["agent.getHealth", () => s.query("agent.getHealth")],
    ["stats.getLive (last second)", () => s.query("stats.getLive", { since: Date.now() - 1000 })],
    ["stats.getLive (5 minutes)", () => s.query("stats.getLive", { since: Date.now() - 300_000 })],
    ["stats.getHistory (6 h)", () => s.query("stats.getHistory", { hours: 6 })],
    ["policy.getPolicy", () => s.query("policy.getPolicy")],
    ["protocols.listProtocols", () => s.query("protocols.listProtocols")],
    ["deploy.previewApply", () => s.query("deploy.previewApply")],
    ["deploy.listHistory", () => s.query("deploy.listHistory")],
    ["flows.listFlows", () => s.query("flows.listFlows")],
    [
      "protocols.testPattern",
      () => s.mutate("protocols.testPattern", { l4: "tcp", dir: "c2s", text: "GET / HTTP/1.1\r\n" }),
    ],
  ];
  for (const [name, fn] of calls) console.log(`  ${name.padEnd(28)} ${stats(await time(N_CALL, fn))}`);
}

try {
  await main();
} finally {
  await state.cleanup?.();
}
