// Related connections on the real box (the lab's three namespaces): FTP downloads by curl
// (passive by EPSV and PASV, active by PORT and EPRT; IPv4 through the box's NAT, and IPv6)
// from a small FTP server in the WAN namespace. The kernel's FTP helper, assigned by Sluice's nftables table, expects the
// data connection; it carries the control connection's mark from its first packet, with
// the protocol field set to ftp-data, never reaches the queue, and is shaped by a rule on
// ftp-data, or, without one, by the FTP session's own rule. Likewise the RTP media of a SIP
// call (rtp) and a TFTP transfer from the server's new port (tftp). Needs root; uses the lab's own
// namespaces and the repository's protocols/.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { PolicyInput } from "@sluice/policy";
import type { ProtocolsResponse } from "@sluice/agent-contract";
import { LAB, execInNs, LabAgent } from "../src/index.ts";
import { classBytes, conntrack, protocolBytes } from "./support/kernel-views.ts";
import { rootOnly as opts, labWithAgent, labPolicy, applyPolicy } from "./support/lab-suite.ts";
import { CLIENT_RTP_PORT, SERVER_RTP_PORT, TFTP_BLOCKS } from "./support/sip-tftp.ts";
import { CLIENT_MEDIA_PORT, RTSP_PORT, SERVER_MEDIA_PORT } from "./support/rtsp-server.ts";

const PROTOCOLS = fileURLToPath(new URL("../../../protocols", import.meta.url));
const FTP_SERVER = fileURLToPath(new URL("./support/ftp-server.ts", import.meta.url));
const SIP_TFTP = fileURLToPath(new URL("./support/sip-tftp.ts", import.meta.url));
const RTSP_SERVER = fileURLToPath(new URL("./support/rtsp-server.ts", import.meta.url));
const agent = new LabAgent(PROTOCOLS);
const client = agent.client;
/** The file: 1 MB, about 2 s through a 4 Mbit/s class. */
const SIZE = 1_000_000;
const CAPPED = "1:11";
let server: ChildProcess | null = null;
let udpServer: ChildProcess | null = null;
let rtspServer: ChildProcess | null = null;
let marks = new Map<string, number>();

// Classes 1:10 fast, 1:11 capped (4 Mbit/s hard), 1:12 other (default).
function policy(rules: PolicyInput["rules"]): PolicyInput {
  const tree = [
    { name: "fast", rate: "20mbit", ceil: "40mbit", priority: 0 },
    { name: "capped", rate: "4mbit", ceil: "4mbit", priority: 4 },
    { name: "other", rate: "8mbit", ceil: "40mbit", priority: 3, default: true },
  ];
  return labPolicy("lab-related", tree, rules);
}

type Mode = "EPSV" | "PASV" | "PORT" | "EPRT";
const CURL_MODE: Record<Mode, string[]> = {
  EPSV: [],
  PASV: ["--disable-epsv"],
  PORT: ["-P", "-", "--disable-eprt"],
  EPRT: ["-P", "-"],
};

/** A download by curl from a LAN client, in the given FTP mode. */
async function download(url: string, mode: Mode): Promise<{ size: number; mbit: number }> {
  const r = await execInNs(LAB.ns.lan, [
    "curl",
    "-s",
    "-g",
    ...CURL_MODE[mode],
    "--max-time",
    "30",
    "-o",
    "/dev/null",
    "-w",
    "%{size_download} %{speed_download}",
    url,
  ]);
  const [size, speed] = r.stdout.trim().split(" ").map(Number) as [number, number];
  return { size, mbit: (speed * 8) / 1e6 };
}

/**
 * The box's TCP conntrack entries with the server, per family: control connections (to
 * port 21) and data connections, whether the client opened them (passive) or the server
 * did (active; to the box's WAN address when NATed).
 */
async function ftpConnections(family: "ipv4" | "ipv6", serverAddr: string) {
  const all = await conntrack(family, "tcp");
  const toServer = all.filter((c) => c.dst === serverAddr);
  return {
    control: toServer.filter((c) => c.dport === 21),
    data: [...toServer.filter((c) => c.dport !== 21), ...all.filter((c) => c.src === serverAddr)],
  };
}

const field = (mark: number) => (mark & 0xff00) >>> 8;

async function flushConntrack(): Promise<void> {
  await execInNs(LAB.ns.box, ["conntrack", "-F"], { allowFail: true });
  await execInNs(LAB.ns.box, ["conntrack", "-F", "-f", "ipv6"], { allowFail: true });
}

labWithAgent(agent, {
  lab: { traffic: false },
  setUp: async () => {
    marks = new Map(
      (await client.call<ProtocolsResponse>("GET", "/v1/protocols")).map((p) => [p.name, p.mark]),
    );
    server = await startServer([FTP_SERVER, "21", String(SIZE)]);
    udpServer = await startServer([SIP_TFTP, "server", LAB.v4.server]);
    rtspServer = await startServer([RTSP_SERVER, "server"]);
  },
  tearDown: () => {
    for (const p of [server, udpServer, rtspServer]) {
      p?.removeAllListeners("exit");
      p?.kill("SIGTERM");
    }
  },
});

/** Starts a test server in the WAN namespace; resolves once it prints that it listens. */
async function startServer(args: string[]): Promise<ChildProcess> {
  const p = spawn("ip", ["netns", "exec", LAB.ns.wan, process.execPath, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    p.once("exit", (code) => reject(new Error(`${args[0]} exited (${code})`)));
    p.stdout!.once("data", () => resolve());
  });
  return p;
}

test(
  "FTP data connections are ftp-data from their first packet and shaped by the ftp-data rule",
  opts,
  async () => {
    await applyPolicy(
      agent,
      policy([
        { protocol: "ftp", class: "fast" },
        { protocol: "ftp-data", class: "capped" },
        { protocol: "sip", class: "fast" },
        { protocol: "rtp", class: "capped" },
        { protocol: "tftp", class: "capped" },
      ]),
    );
    const status = await client.call<{ variant: { helpers: string[] } }>("GET", "/v1/status");
    assert.ok(status.variant.helpers.includes("ftp"), "the probe found the kernel's FTP helper");
    await flushConntrack();
    const before = await classBytes("lan0");
    const modes: Mode[] = ["EPSV", "PASV", "PORT"];
    const results: { size: number; mbit: number }[] = [];
    for (const mode of modes) results.push(await download(`ftp://${LAB.v4.server}/file.bin`, mode));
    const after = await classBytes("lan0");
    console.log(
      `through "capped" (4 Mbit/s): ${modes.map((m, i) => `${m} ${results[i]!.mbit.toFixed(2)} Mbit/s`).join(", ")}`,
    );
    for (const r of results) assert.equal(r.size, SIZE);

    const { control, data } = await ftpConnections("ipv4", LAB.v4.server);
    assert.equal(control.length, 3, "three control connections");
    assert.equal(data.length, 3, "three data connections");
    for (const c of control) assert.equal(field(c.mark), marks.get("ftp"), "the control connection is ftp");
    for (const d of data) {
      assert.equal(field(d.mark), marks.get("ftp-data"), `data connection ${d.src}:${d.sport} → :${d.dport}`);
      assert.ok(d.bytes >= SIZE, `it carried the file (${d.bytes} bytes)`);
    }
    const capped = after.get(CAPPED)! - before.get(CAPPED)!;
    assert.ok(capped >= 3 * SIZE, `the capped class sent the three files (${capped} bytes)`);
    for (const r of results) assert.ok(r.mbit <= 4.4, `shaped to 4 Mbit/s (${r.mbit.toFixed(2)})`);

    // Never queued: the data plane decided only the control connections.
    const flows = await client.call<{ decided: { protocol: string }[] }>("GET", "/v1/flows");
    assert.ok(!flows.decided.some((f) => f.protocol === "ftp-data" || f.protocol === "unknown"));
    const bytes = await protocolBytes(marks.get("ftp-data")!);
    assert.ok(bytes >= 3 * SIZE, `ftp-data's counter: ${bytes} bytes`);
  },
);

test(
  "SIP media is rtp and a TFTP transfer from the server's new port is tftp, from their first packet",
  opts,
  async () => {
    // The policy the FTP test applied: sip → fast, rtp and tftp → capped.
    await flushConntrack();
    const before = await classBytes("wan0");
    const local = LAB.v4.clients[1];
    const r = await execInNs(LAB.ns.lan, [process.execPath, SIP_TFTP, "client", LAB.v4.server, local]);
    const after = await classBytes("wan0");
    const out = JSON.parse(r.stdout) as { rtpPackets: number; tftpBytes: number };
    assert.equal(out.tftpBytes, TFTP_BLOCKS * 512);
    const udp = await conntrack("ipv4", "udp");
    const sip = udp.find((c) => c.src === local && c.dport === 5060);
    const media = udp.find(
      (c) => c.src === local && c.sport === CLIENT_RTP_PORT && c.dport === SERVER_RTP_PORT,
    );
    const request = udp.find((c) => c.src === local && c.dport === 69);
    const transfer = udp.find((c) => c.src === LAB.v4.server && c.sport !== 69 && c.sport !== 5060);
    assert.ok(sip && media && request && transfer, "the call, its media, the TFTP request and its transfer");
    assert.equal(field(sip.mark), marks.get("sip"));
    assert.equal(field(media.mark), marks.get("rtp"), "the media is rtp");
    assert.equal(field(request.mark), marks.get("tftp"));
    assert.equal(field(transfer.mark), marks.get("tftp"), "the transfer from the server's new port is tftp");
    // Decided by the helper's expectation, not by the data plane: neither was queued.
    const flows = await client.call<{ decided: { client: string; server: string }[] }>("GET", "/v1/flows");
    assert.ok(!flows.decided.some((f) => f.client === `${local}:${CLIENT_RTP_PORT}`));
    assert.ok(!flows.decided.some((f) => f.client.startsWith(`${LAB.v4.server}:`)));
    const sent = after.get(CAPPED)! - before.get(CAPPED)!;
    assert.ok(sent >= out.rtpPackets * 172, `the media went up in rtp's class (${sent} bytes)`);
  },
);

test(
  "without a rule of its own, the data connection follows the FTP session's rule (IPv6, EPSV and EPRT)",
  opts,
  async () => {
    await applyPolicy(agent, policy([{ protocol: "ftp", class: "capped" }]));
    await flushConntrack();
    const before = await classBytes("lan0");
    const epsv = await download(`ftp://[${LAB.v6.server}]/file.bin`, "EPSV");
    const eprt = await download(`ftp://[${LAB.v6.server}]/file.bin`, "EPRT");
    const after = await classBytes("lan0");
    console.log(
      `IPv6 through "capped" by the ftp rule: EPSV ${epsv.mbit.toFixed(2)}, EPRT ${eprt.mbit.toFixed(2)} Mbit/s`,
    );
    const { data } = await ftpConnections("ipv6", LAB.v6.server);
    assert.equal(data.length, 2, "two data connections");
    for (const d of data) assert.equal(field(d.mark), marks.get("ftp-data"));
    const capped = after.get(CAPPED)! - before.get(CAPPED)!;
    assert.ok(capped >= 2 * SIZE, `the FTP session's class sent the files (${capped} bytes)`);
    for (const r of [epsv, eprt]) {
      assert.equal(r.size, SIZE);
      assert.ok(r.mbit <= 4.4, `shaped to 4 Mbit/s (${r.mbit.toFixed(2)})`);
    }
  },
);

/** An RTSP session from a LAN client (OPTIONS … PLAY), then its media for `seconds`. */
async function rtspSession(serverAddr: string, local: string, seconds: number) {
  const r = await execInNs(
    LAB.ns.lan,
    [process.execPath, RTSP_SERVER, "client", serverAddr, local, String(seconds)],
    {
      timeoutMs: (seconds + 30) * 1000,
    },
  );
  return JSON.parse(r.stdout) as { setupMs: number; rtpBytes: number; seconds: number; mbit: number };
}

test(
  "RTSP media is rtp from its first packet (Sluice's own expectation table), shaped by the rtp rule, else by rtsp's",
  opts,
  async () => {
    await applyPolicy(
      agent,
      policy([
        { protocol: "rtsp", class: "fast" },
        { protocol: "rtp", class: "capped" },
      ]),
    );
    const status = await client.call<{ variant: { rtspMedia?: boolean } }>("GET", "/v1/status");
    assert.equal(status.variant.rtspMedia, true, "nftables: RTSP media is followed");
    await flushConntrack();
    const local = LAB.v4.clients[2];
    const before = await classBytes("lan0");
    const v4 = await rtspSession(LAB.v4.server, local, 3);
    const after = await classBytes("lan0");
    console.log(
      `RTSP media (IPv4, NAT) through "capped" by the rtp rule: ${v4.mbit.toFixed(2)} Mbit/s over ${v4.seconds.toFixed(1)} s (server sends 8); SETUP reply after ${v4.setupMs} ms`,
    );
    const udp = await conntrack("ipv4", "udp");
    const rtp = udp.find(
      (c) => c.src === local && c.sport === CLIENT_MEDIA_PORT && c.dport === SERVER_MEDIA_PORT,
    );
    const rtcp = udp.find(
      (c) => c.src === local && c.sport === CLIENT_MEDIA_PORT + 1 && c.dport === SERVER_MEDIA_PORT + 1,
    );
    assert.ok(rtp && rtcp, "the media connections (RTP and RTCP) are tracked");
    assert.equal(field(rtp.mark), marks.get("rtp"), "the RTP connection is rtp");
    assert.equal(field(rtcp.mark), marks.get("rtp"), "the RTCP connection is rtp");
    assert.ok(rtp.bytes >= v4.rtpBytes, `it carried the media (${rtp.bytes} bytes)`);
    const control = (await conntrack("ipv4", "tcp")).find((c) => c.src === local && c.dport === RTSP_PORT);
    assert.equal(field(control!.mark), marks.get("rtsp"), "the control connection is rtsp");
    // Never queued: the data plane decided only the control connection.
    const flows = await client.call<{ decided: { client: string }[] }>("GET", "/v1/flows");
    assert.ok(!flows.decided.some((f) => f.client.startsWith(`${local}:${CLIENT_MEDIA_PORT}`)));
    // Shaped by the rule on rtp: the capped class carried it at about 4 Mbit/s.
    const capped = after.get(CAPPED)! - before.get(CAPPED)!;
    assert.ok(v4.rtpBytes > 1_000_000, `media received (${v4.rtpBytes} bytes)`);
    assert.ok(capped >= v4.rtpBytes, `the capped class sent the media (${capped} bytes)`);
    assert.ok(v4.mbit <= 4.4 && v4.mbit >= 2, `shaped to 4 Mbit/s (${v4.mbit.toFixed(2)})`);
    const counted = await protocolBytes(marks.get("rtp")!);
    assert.ok(counted >= v4.rtpBytes, `rtp's counter: ${counted} bytes`);
    const s = await client.call<{ dataPlane: { rtspMedia?: { added: number } } }>("GET", "/v1/status");
    assert.ok((s.dataPlane.rtspMedia?.added ?? 0) >= 2, "the agent added the RTP and RTCP expectations");

    // IPv6 (routed, no NAT) and no rule on rtp: the media follows the rtsp rule.
    await applyPolicy(agent, policy([{ protocol: "rtsp", class: "capped" }]));
    await flushConntrack();
    const local6 = LAB.v6.clients[2];
    const before6 = await classBytes("lan0");
    const v6 = await rtspSession(LAB.v6.server, local6, 2);
    const after6 = await classBytes("lan0");
    console.log(`RTSP media (IPv6) through "capped" by the rtsp rule: ${v6.mbit.toFixed(2)} Mbit/s`);
    const media6 = (await conntrack("ipv6", "udp")).find(
      (c) => c.src === local6 && c.sport === CLIENT_MEDIA_PORT && c.dport === SERVER_MEDIA_PORT,
    );
    assert.equal(field(media6!.mark), marks.get("rtp"), "the IPv6 media is rtp");
    const capped6 = after6.get(CAPPED)! - before6.get(CAPPED)!;
    assert.ok(capped6 >= v6.rtpBytes, `the rtsp rule's class sent the media (${capped6} bytes)`);
    assert.ok(v6.mbit <= 4.4, `shaped to 4 Mbit/s (${v6.mbit.toFixed(2)})`);
  },
);
