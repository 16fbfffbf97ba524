import { Overview } from "./overview";

export const metadata = { title: "Overview" };

export default function OverviewPage() {
  return <Overview />;
}
