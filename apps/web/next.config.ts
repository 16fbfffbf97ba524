import type { NextConfig } from "next";

const config: NextConfig = {
  // @sluice/policy (validation in the browser) is TypeScript source: Next compiles it.
  transpilePackages: ["@sluice/policy"],
  // The server side (@sluice/api → @sluice/db, Prisma, re2) is not bundled at all: see
  // src/server/api.ts.
  poweredByHeader: false,
  // `./dev test` type-checks everything first; its e2e build skips Next's second pass.
  typescript: { ignoreBuildErrors: process.env.SLUICE_NEXT_SKIP_TYPECHECK === "1" },
  reactStrictMode: true,
  typedRoutes: false,
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Frame-Options", value: "DENY" },
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "same-origin" },
        ],
      },
    ];
  },
};

export default config;
