// A tiny FTP server for the lab tests (no FTP server package is installed): anonymous
// login, passive mode by PASV and EPSV (IPv4 and IPv6), and RETR of any name, answered
// with `bytes` bytes of noise. Run inside a namespace:
//   node ftp-server.ts PORT BYTES     (prints "listening" once it accepts connections)

import { createServer, type Server, type Socket } from "node:net";
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

function session(ctl: Socket): void {
  let data: Awaited<ReturnType<typeof passive>> | null = null;
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
      case "EPSV":
        data?.server.close();
        data = await passive();
        return say(`229 Entering Extended Passive Mode (|||${data.port}|)`);
      case "PASV": {
        data?.server.close();
        data = await passive();
        const host = (ctl.localAddress ?? "").replace(/^::ffff:/, "").replaceAll(".", ",");
        return say(`227 Entering Passive Mode (${host},${data.port >> 8},${data.port & 255})`);
      }
      case "RETR": {
        if (!data) return say("425 Use PASV or EPSV first");
        const d = data;
        data = null;
        say(`150 Opening BINARY mode data connection for ${arg} (${size} bytes)`);
        const sock = await d.conn;
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
  ctl.on("close", () => data?.server.close());
}

createServer(session).listen({ port, host: "::", ipv6Only: false }, () => {
  process.stdout.write("listening\n");
});
