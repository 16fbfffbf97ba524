import { redirect } from "next/navigation";
import { currentSession } from "@/server/api";
import { SetupForm } from "./setup-form";

export const metadata = { title: "First-run setup" };

export default async function SetupPage() {
  const s = await currentSession(undefined);
  if (!s.needsSetup) redirect("/login");
  return <SetupForm />;
}
