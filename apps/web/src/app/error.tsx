"use client";
// When even the frame cannot be rendered (the database cannot be opened, say).

export default function RootError({
  error,
  reset,
}: {
  error: Error & { digest?: string };
  reset: () => void;
}) {
  return (
    <div style={{ fontFamily: "system-ui, sans-serif", padding: 32, maxWidth: 640 }}>
      <h2>Sluice: the dashboard could not load this page</h2>
      <p>{error.message || "an unexpected error"}</p>
      {error.digest && <p style={{ color: "#868e96" }}>reference {error.digest} (in the server log)</p>}
      <button onClick={reset}>Try again</button>
    </div>
  );
}
