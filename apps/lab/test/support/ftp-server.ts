// A tiny FTP server for the lab tests (no FTP server package is installed): anonymous
// login, passive mode by PASV and EPSV and active mode by PORT and EPRT (IPv4 and IPv6),
// and RETR of any name, answered with `bytes` bytes of noise. Run inside a namespace:
//   node ftp-server.ts PORT BYTES     (prints "listening" once it accepts connections)

import { connect, createServer, type Server, type Socket } from "node:net";
import { randomBytes } from "node:crypto";

const port = Number(process.argv[2] ?? 21);
const size = Number(process.argv[3] ?? 1_000_000);
const payload = randomBytes(size);

/** One passive data listener: the first connection it accepts carries the next transfer. */
function passive(): Promise<{ server: Server; port: number; conn: Promise<Socket> }> {
  return new Promise((resolve, reject) => {
    let accept: (s: Socket) => void = () => {};
    const conn = new Promise<Socket>((r) => (accept = r));
    const server = createServer((s) => {
      server.close();
      accept(s);
    });
    server.once("error", reject);
    server.listen({ port: 0, host: "::", ipv6Only: false }, () => {
      const addr = server.address();
      resolve({ server, port: typeof addr === "object" && addr ? addr.port : 0, conn });
    });
  });
}

/** The data connection a RETR sends on: a passive listener's, or one to the client's port. */
type DataChannel = { server: Server | null; conn: Promise<Socket> };

/** Active mode: the server connects to the address and port the client announced. */
function active(host: string, port: number): DataChannel {
  const conn = new Promise<Socket>((resolve, reject) => {
    const s = connect({ host, port }, () => resolve(s));
    s.once("error", reject);
  });
  conn.catch(() => {}); // a failed connection is reported at RETR, not as an unhandled rejection
  return { server: null, conn };
}

function session(ctl: Socket): void {
  let data: DataChannel | null = null;
  let buf = "";
  const say = (line: string) => ctl.write(`${line}\r\n`);
  ctl.on("error", () => ctl.destroy());
  say("220 Sluice lab FTP server ready");
  const command = async (line: string) => {
    const [verb = "", ...rest] = line.split(" ");
    const arg = rest.join(" ");
    switch (verb.toUpperCase()) {
      case "USER":
        return say("331 Any password will do");
      case "PASS":
        return say("230 Logged in");
      case "SYST":
        return say("215 UNIX Type: L8");
      case "FEAT":
        return say("211 No features");
      case "PWD":
        return say('257 "/" is the current directory');
      case "CWD":
        return say("250 OK");
      case "TYPE":
        return say("200 Type set");
      case "SIZE":
        return say(`213 ${size}`);
      case "EPSV": {
        data?.server?.close();
        const p = await passive();
        data = p;
        return say(`229 Entering Extended Passive Mode (|||${p.port}|)`);
      }
      case "PASV": {
        data?.server?.close();
        const p = await passive();
        data = p;
        const host = (ctl.localAddress ?? "").replace(/^::ffff:/, "").replaceAll(".", ",");
        return say(`227 Entering Passive Mode (${host},${p.port >> 8},${p.port & 255})`);
      }
      case "PORT": {
        const n = arg.split(",").map(Number);
        if (n.length !== 6 || n.some((x) => !(x >= 0 && x <= 255))) return say("501 Bad PORT");
        data?.server?.close();
        data = active(n.slice(0, 4).join("."), n[4]! * 256 + n[5]!);
        return say("200 PORT command successful");
      }
      case "EPRT": {
        // |1|10.0.0.1|4000| or |2|fd00::1|4000|
        const [, , host, port] = arg.split(arg[0] ?? "|");
        if (!host || !Number(port)) return say("501 Bad EPRT");
        data?.server?.close();
        data = active(host, Number(port));
        return say("200 EPRT command successful");
      }
      case "RETR": {
        if (!data) return say("425 Use PASV or EPSV first");
        const d = data;
        data = null;
        say(`150 Opening BINARY mode data connection for ${arg} (${size} bytes)`);
        const sock = await d.conn.catch(() => null);
        if (!sock) return say("425 Cannot open the data connection");
        sock.on("error", () => sock.destroy());
        sock.end(payload, () => say("226 Transfer complete"));
        return;
      }
      case "QUIT":
        say("221 Goodbye");
        return ctl.end();
      default:
        return say("502 Command not implemented");
    }
  };
  let chain: Promise<unknown> = Promise.resolve();
  ctl.on("data", (chunk) => {
    buf += chunk.toString("latin1");
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i).replace(/\r$/, "");
      buf = buf.slice(i + 1);
      chain = chain.then(() => command(line)).catch(() => ctl.destroy());
    }
  });
  ctl.on("close", () => data?.server?.close());
}

createServer(session).listen({ port, host: "::", ipv6Only: false }, () => {
  process.stdout.write("listening\n");
});
