import { ClassesEditor } from "./classes-editor";

export const metadata = { title: "Classes" };

export default function ClassesPage() {
  return <ClassesEditor />;
}
