import { Overview } from "./_overview/overview";

export const metadata = { title: "Overview" };

export default function OverviewPage() {
  return <Overview />;
}
