"use client";
// The Overview's live ring in the browser: asks for samples newer than the last one it has,
// about once a second, and keeps the chosen window.

import { useEffect, useRef, useState } from "react";
import type { LiveSample, RouterOutputs } from "@sluice/api/client";
import { useTRPCClient } from "@/lib/trpc";

type Live = RouterOutputs["stats"]["getLive"];

export interface LiveState {
  samples: LiveSample[];
  extra: Omit<Live, "samples"> | null;
  error: Error | null;
  loading: boolean;
}

export function useLiveStats(windowMs: number, intervalMs = 1000): LiveState {
  const client = useTRPCClient();
  const [state, setState] = useState<LiveState>({ samples: [], extra: null, error: null, loading: true });
  const last = useRef(0);
  const windowRef = useRef(windowMs);
  windowRef.current = windowMs;

  useEffect(() => {
    // a wider window: fetch it whole on the next tick
    last.current = 0;
  }, [windowMs]);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const tick = async () => {
      try {
        const since = last.current || Date.now() - windowRef.current;
        const r = await client.stats.getLive.query({ since });
        if (stopped) return;
        const { samples, ...extra } = r;
        if (samples.length) last.current = samples.at(-1)!.t;
        setState((s) => {
          const cutoff = Date.now() - windowRef.current;
          // a wider window refetches what the page already has: one sample per time stamp, in order
          const byT = new Map<number, LiveSample>();
          for (const x of [...s.samples, ...samples]) if (x.t >= cutoff) byT.set(x.t, x);
          const merged = [...byT.values()].sort((a, b) => a.t - b.t);
          return { samples: merged, extra, error: null, loading: false };
        });
      } catch (e) {
        if (!stopped) setState((s) => ({ ...s, error: e as Error, loading: false }));
      } finally {
        if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
      }
    };
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [client, intervalMs]);

  return state;
}
