/* global fetch, AbortSignal, setTimeout */
// Waits (up to $1 seconds) until the dashboard answers on 127.0.0.1:80; prints its status.
const limit = Date.now() + Number(process.argv[2] ?? 300) * 1000;
for (;;) {
  try {
    const r = await fetch("http://127.0.0.1/", { redirect: "manual", signal: AbortSignal.timeout(20000) });
    console.log(`HTTP ${r.status}${r.headers.get("location") ? ` -> ${r.headers.get("location")}` : ""}`);
    process.exit(0);
  } catch {
    if (Date.now() > limit) {
      console.log("no answer");
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
