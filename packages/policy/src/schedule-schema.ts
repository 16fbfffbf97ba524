// Schedules: time windows (days of the week, a start and an end on the policy's local
// wall clock) in which class limits or rules differ, e.g. "p2p capped to 2 Mbit/s on
// weekdays 08:00–18:00". What a window changes is a patch on the policy; schedule.ts turns
// (policy, instant) into the policy in force. The cross-field checks are in
// schedule-validate.ts. Imports from schema.ts are lazy: schema.ts imports this file.

import { z } from "zod";
import { plainText } from "./text.ts";
import { TargetRuleSchema } from "./schema.ts";
import { rateSchema } from "./rate-schema.ts";

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const NAME = /^[a-z][a-z0-9_-]{0,31}$/;
const NAME_MSG = "lowercase letters, digits, _ and -, starting with a letter (max 32)";

/** "HH:MM" on a 24-hour clock; an end may also be "24:00" (midnight at the end of the day). */
const clock = (allow24: boolean) =>
  z
    .string()
    .regex(
      allow24 ? /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/ : /^([01]\d|2[0-3]):[0-5]\d$/,
      allow24 ? 'a time "HH:MM" from 00:00 to 24:00' : 'a time "HH:MM" from 00:00 to 23:59',
    );

/** Minutes after midnight of "HH:MM". */
export const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** A class's limits while a window is in force: any of rate, ceil and priority. */
export const ClassChangeSchema = z
  .strictObject({
    class: plainText(100).min(1),
    /** Only this direction's class of that name; default both (where the class exists). */
    direction: z.enum(["upload", "download"]).optional(),
    rate: rateSchema.optional(),
    ceil: rateSchema.optional(),
    priority: z.number().int().min(0).max(7).optional(),
  })
  .refine((c) => c.rate !== undefined || c.ceil !== undefined || c.priority !== undefined, {
    message: "a class change sets at least one of rate, ceil or priority",
  });

export const ScheduleWindowSchema = z.strictObject({
  name: z.string().regex(NAME, NAME_MSG),
  /** The days the window starts on; a window ending at or before its start ends the next day. */
  days: z.array(z.enum(WEEKDAYS)).min(1, "a window needs at least one day").max(7),
  start: clock(false),
  end: clock(true),
  classes: z.array(ClassChangeSchema).max(200).default([]),
  /** Rules in force during the window: each replaces the policy's rule for the same target, or adds one. */
  rules: z
    .array(z.lazy(() => TargetRuleSchema))
    .max(1000)
    .default([]),
  description: plainText(200).optional(),
});

export type ScheduleWindow = z.output<typeof ScheduleWindowSchema>;
export type ClassChange = z.output<typeof ClassChangeSchema>;
