"use client";
// Tables marked `stack-sm` become one card per row on a phone (globals.css); each cell then
// needs its column's name. This copies the header texts onto the cells as data-label, for
// every such table now and after every render, so pages need no per-cell labels.

import { useEffect } from "react";

function label(): void {
  for (const t of document.querySelectorAll("table.stack-sm")) {
    const heads = [...t.querySelectorAll("thead th")].map((th) => th.textContent?.trim() ?? "");
    for (const tr of t.querySelectorAll("tbody tr"))
      [...tr.children].forEach((td, i) => {
        const l = heads[i];
        if (l && td.getAttribute("data-label") !== l) td.setAttribute("data-label", l);
      });
  }
}

export function useStackLabels(): void {
  useEffect(() => {
    let queued = false;
    const mo = new MutationObserver(() => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        label();
      });
    });
    mo.observe(document.body, { childList: true, subtree: true });
    label();
    return () => mo.disconnect();
  }, []);
}
