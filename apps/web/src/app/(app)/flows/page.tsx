import { FlowsView } from "./flows-view";

export const metadata = { title: "Flows" };

export default function FlowsPage() {
  return <FlowsView />;
}
