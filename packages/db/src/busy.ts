// A database another process holds locked (SQLite busy after the busy timeout, PostgreSQL
// lock or statement timeouts): the caller can say so and that nothing was recorded, instead
// of an internal error.

const BUSY = /SQLITE_BUSY|database is locked|lock(?:_not_available| timeout)|statement timeout|P1008|P2034/i;

/** Whether `e` (or one of its causes) says the database was locked by someone else. */
export function isBusyError(e: unknown): boolean {
  for (let c: unknown = e, depth = 0; c && depth < 6; depth++) {
    const x = c as { message?: unknown; code?: unknown; cause?: unknown; meta?: unknown };
    const text = `${String(x.code ?? "")} ${String(x.message ?? "")} ${JSON.stringify(x.meta ?? "")}`;
    if (BUSY.test(text)) return true;
    c = x.cause;
  }
  return false;
}
