// Classifies an uploaded capture (pcap or pcapng, base64) on the server with the same
// classifier and pattern set the agent uses: one row per connection.

import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { plainText } from "@sluice/policy";
import { protectedProcedure } from "../../trpc.ts";
import { audit } from "../../helpers.ts";

export const classifyCaptureInput = z.object({
  name: plainText(200).min(1, "the file has no name"),
  dataBase64: z.string().min(1, "the file is empty: choose a pcap or pcapng capture"),
});

export const classifyCapture = protectedProcedure
  .input(classifyCaptureInput)
  .mutation(async ({ ctx, input }) => {
    const max = ctx.deps.config.captureMaxBytes;
    if ((input.dataBase64.length * 3) / 4 > max + 4)
      throw new TRPCError({
        code: "PAYLOAD_TOO_LARGE",
        message: `captures up to ${Math.round(max / 1048576)} MiB`,
      });
    const buf = Buffer.from(input.dataBase64, "base64");
    const patterns = await ctx.deps.patterns();
    const { classifyCaptureBuffer } = await import("@sluice/classifier");
    const t0 = performance.now();
    const s = classifyCaptureBuffer(input.name, buf, patterns);
    const ms = Math.round(performance.now() - t0);
    const byProtocol = new Map<string, { flows: number; bytes: number }>();
    for (const f of s.flows) {
      const e = byProtocol.get(f.protocol) ?? { flows: 0, bytes: 0 };
      e.flows++;
      e.bytes += f.bytes;
      byProtocol.set(f.protocol, e);
    }
    await audit(ctx, "capture.classify", input.name, { bytes: buf.length, flows: s.flows.length });
    return {
      name: input.name,
      format: s.format,
      frames: s.frames,
      decoded: s.decoded,
      skipped: s.skipped,
      error: s.error ? s.error.message : null,
      ms,
      patterns: patterns.size,
      summary: [...byProtocol].map(([protocol, v]) => ({ protocol, ...v })).sort((a, b) => b.bytes - a.bytes),
      flows: s.flows.slice(0, 2000),
      truncated: s.flows.length > 2000,
    };
  });
