// The packet/connection mark Sluice owns: three fields, each a run of bits set by the policy
// (`marks`). Their defaults and the reserved protocol values live here, once, for the
// schema, the renderer, the data plane, accounting and the dashboard.

/** Protocol field values 0, 1 and 2 mean untouched, unset (inspecting) and unknown, as in l7-filter. */
export const MARK_UNTOUCHED = 0;
export const MARK_UNSET = 1;
export const MARK_UNKNOWN = 2;
/** Patterns get 3 and up. */
export const FIRST_PROTOCOL_MARK = 3;

/** The default masks: protocol 0xff00, app 0xff0000, hostname rule 0xff000000. */
export const DEFAULT_MARKS: Readonly<{ mask: number; appMask: number; hostMask: number }> = Object.freeze({
  mask: 0xff00,
  appMask: 0xff0000,
  hostMask: 0xff000000,
});

/** One mark field: its bits and where its value starts. */
export interface MarkFieldMask {
  mask: number;
  shift: number;
}

/** Bit position of the lowest set bit of the mark mask. */
export function shiftOf(mask: number): number {
  let s = 0;
  while (s < 32 && ((mask >>> s) & 1) === 0) s++;
  return s;
}

/** A mask with its shift. */
export function markField(mask: number): MarkFieldMask {
  return { mask: mask >>> 0, shift: shiftOf(mask) };
}

/** The three fields of a policy's `marks` (the defaults when none is given). */
export function markFields(marks: { mask: number; appMask: number; hostMask: number } = DEFAULT_MARKS): {
  protocol: MarkFieldMask;
  app: MarkFieldMask;
  host: MarkFieldMask;
} {
  return { protocol: markField(marks.mask), app: markField(marks.appMask), host: markField(marks.hostMask) };
}

/** The protocol name of the reserved values ("unset", "unknown"), else undefined. */
export function reservedProtocol(l7mark: number): "unset" | "unknown" | undefined {
  return l7mark === MARK_UNSET ? "unset" : l7mark === MARK_UNKNOWN ? "unknown" : undefined;
}

/** The protocol field value a rule's protocol names: the reserved ones, else the pattern's mark. */
export function protocolMark(name: string, marks: ReadonlyMap<string, number>): number | undefined {
  return name === "unset" ? MARK_UNSET : name === "unknown" ? MARK_UNKNOWN : marks.get(name);
}
