// Request body limits for /api/trpc (issue 17.2). tRPC reads a mutation's JSON body in full
// before any input check, so without a cap one anonymous sign-in with a 100 MB password
// costs the server hundreds of MB. Every call gets a small cap; only the capture upload
// (base64 in JSON) gets the capture cap. The body is counted as it streams in (chunked
// bodies too) and refused past the cap; a Content-Length above it is refused unread.

import { TRPCError } from "@trpc/server";

/** The cap of every procedure but the uploads: policies and forms are a few KiB. */
export const BODY_LIMIT_BYTES = 256 * 1024;

/** Procedures whose body carries a file (base64), capped by the capture limit instead. */
export const UPLOAD_PROCEDURES: ReadonlySet<string> = new Set(["protocols.classifyCapture"]);

/** Room for the JSON around the base64 (the file name, the keys, a batch wrapper). */
const UPLOAD_FRAMING = 64 * 1024;

/** The body cap of a request to `endpoint`/<paths>: the upload cap only when every call is an upload. */
export function bodyLimitFor(url: string, endpoint: string, captureMaxBytes: number): number {
  const path = new URL(url).pathname.slice(endpoint.length + 1);
  let paths: string[];
  try {
    paths = decodeURIComponent(path).split(",");
  } catch {
    return BODY_LIMIT_BYTES;
  }
  const upload = paths.length > 0 && paths.every((p) => UPLOAD_PROCEDURES.has(p));
  return upload ? Math.ceil(captureMaxBytes / 3) * 4 + UPLOAD_FRAMING : BODY_LIMIT_BYTES;
}

function tooLarge(limit: number): TRPCError {
  const size = limit >= 1048576 ? `${Math.round(limit / 1048576)} MiB` : `${Math.round(limit / 1024)} KiB`;
  return new TRPCError({ code: "PAYLOAD_TOO_LARGE", message: `the request body is over ${size}` });
}

/**
 * The request with its body capped at `limit` bytes: reading past the cap fails with
 * PAYLOAD_TOO_LARGE (tRPC answers 413), and the rest is never read. A declared length over
 * the cap fails without reading anything.
 */
export function limitRequestBody(req: Request, limit: number): Request {
  if (!req.body) return req;
  const declared = Number(req.headers.get("content-length") ?? Number.NaN);
  let body: ReadableStream<Uint8Array>;
  if (declared > limit) {
    req.body.cancel().catch(() => undefined);
    body = new ReadableStream({ start: (c) => c.error(tooLarge(limit)) });
  } else {
    let seen = 0;
    body = req.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, c) {
          seen += chunk.byteLength;
          if (seen > limit) c.error(tooLarge(limit));
          else c.enqueue(chunk);
        },
      }),
    );
  }
  const headers = new Headers(req.headers);
  headers.delete("content-length");
  // a streamed body needs duplex "half" (undici); the DOM's RequestInit does not know it
  const init = { method: req.method, headers, body, signal: req.signal, duplex: "half" };
  return new Request(req.url, init as RequestInit);
}
