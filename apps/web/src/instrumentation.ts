// Runs once when the server starts: opens the database (applying migrations) and starts the
// background work (one subscription to the agent's stats stream, the per-minute roll-up).
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { api } = await import("./server/api");
  try {
    const deps = await (await api()).startBackground();
    console.log(
      `[sluice-web] database ${deps.db.provider} ${deps.db.location}; agent socket ${deps.config.socket}`,
    );
  } catch (e) {
    console.error("[sluice-web] could not start:", e);
  }
}
