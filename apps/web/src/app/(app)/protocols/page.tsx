import { api } from "@/server/api";
import { ProtocolsView } from "./protocols-view";

export const metadata = { title: "Protocols" };

export default async function ProtocolsPage() {
  // the server's capture cap, so the upload form refuses a larger file before sending it
  const deps = await (await api()).serverDeps();
  return <ProtocolsView captureMaxBytes={deps.config.captureMaxBytes} />;
}
