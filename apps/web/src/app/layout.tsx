import type { Metadata } from "next";
import { headers } from "next/headers";
import localFont from "next/font/local";
import { ColorSchemeScript, MantineProvider, createTheme, mantineHtmlProps } from "@mantine/core";
import "@mantine/core/styles.css";
import "uplot/dist/uPlot.min.css";
import "./globals.css";
import { Providers } from "@/lib/trpc";

// Self-hosted (next/font/google would fetch from the network at build time).
const inter = localFont({
  src: "../../../../node_modules/@fontsource-variable/inter/files/inter-latin-wght-normal.woff2",
  weight: "100 900",
  display: "swap",
  variable: "--font-inter",
});

export const metadata: Metadata = {
  title: { default: "Sluice", template: "%s · Sluice" },
  description: "Layer-7 QoS appliance dashboard",
};

const theme = createTheme({
  fontFamily: "var(--font-inter), system-ui, sans-serif",
  fontFamilyMonospace: "ui-monospace, SFMono-Regular, Menlo, monospace",
  primaryColor: "indigo",
  defaultRadius: "md",
});

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  // Light or dark as the OS asks (prefers-color-scheme). The per-request CSP nonce from src/proxy.ts (reading headers makes every page dynamic).
  const nonce = (await headers()).get("x-nonce") ?? undefined;
  return (
    <html lang="en" {...mantineHtmlProps} className={inter.variable}>
      <head>
        <ColorSchemeScript defaultColorScheme="auto" nonce={nonce} />
      </head>
      <body>
        <MantineProvider theme={theme} defaultColorScheme="auto">
          <Providers>{children}</Providers>
        </MantineProvider>
      </body>
    </html>
  );
}
