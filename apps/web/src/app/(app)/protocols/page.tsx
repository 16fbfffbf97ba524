import { ProtocolsView } from "./protocols-view";

export const metadata = { title: "Protocols" };

export default function ProtocolsPage() {
  return <ProtocolsView />;
}
