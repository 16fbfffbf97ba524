import { redirect } from "next/navigation";
import { cookies } from "next/headers";
import { currentSession, SESSION_COOKIE } from "@/server/api";
import { Shell } from "@/components/shell";

export const dynamic = "force-dynamic";

// Every page under here needs a signed-in user (checked again by every procedure).
export default async function AppLayout({ children }: { children: React.ReactNode }) {
  const s = await currentSession((await cookies()).get(SESSION_COOKIE)?.value);
  if (s.needsSetup) redirect("/setup");
  if (!s.user) redirect("/login");
  return <Shell user={{ username: s.user.username, role: s.user.role }}>{children}</Shell>;
}
