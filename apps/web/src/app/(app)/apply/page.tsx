import { ApplyView } from "./apply-view";

export const metadata = { title: "Apply" };

export default function ApplyPage() {
  return <ApplyView />;
}
