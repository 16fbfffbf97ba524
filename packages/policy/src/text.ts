// Free text (policy and class names, descriptions, comments, user names): anything
// printable, never a control character. Text like this is shown in the dashboard and copied
// into script headers and history; a newline there could become a line of a script.

import { z } from "zod";

/**
 * C0 and C1 controls and DEL (newline, carriage return, tab, escape, NUL…), the Unicode line
 * and paragraph separators, and the bidirectional overrides and isolates (which make text
 * read differently from what it is).
 */
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** The first character free text may not contain, as "U+000A at 4" (1-based), or null. */
export function forbiddenCharacter(s: string): string | null {
  const m = FORBIDDEN.exec(s);
  if (!m) return null;
  const code = m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
  return `U+${code} at character ${m.index + 1}`;
}

/** True when s holds no character that free text may not contain. */
export const isPlainText = (s: string): boolean => !FORBIDDEN.test(s);

/** A zod string of at most `max` characters without control characters. */
export function plainText(max: number) {
  return z
    .string()
    .max(max)
    .superRefine((s, ctx) => {
      const bad = forbiddenCharacter(s);
      if (bad)
        ctx.addIssue({
          code: "custom",
          message: `control characters (newlines, tabs, …) are not allowed: found ${bad}`,
        });
    });
}

/**
 * Text safe to embed in a comment line of a rendered script: printable ASCII only (every
 * other character becomes "?"), so nothing can end the line or hide in it. Identity for the
 * plain names policies use.
 */
export function scriptSafe(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, "?");
}
