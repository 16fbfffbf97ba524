import { SchedulesEditor } from "./schedules-editor";

export const metadata = { title: "Schedules and quotas" };

export default function SchedulesPage() {
  return <SchedulesEditor />;
}
