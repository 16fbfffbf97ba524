import { RulesEditor } from "./rules-editor";

export const metadata = { title: "Rules" };

export default function RulesPage() {
  return <RulesEditor />;
}
