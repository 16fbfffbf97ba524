import { redirect } from "next/navigation";
import { cookies } from "next/headers";
import { currentSession, SESSION_COOKIE } from "@/server/api";
import { LoginForm } from "./login-form";

export const metadata = { title: "Sign in" };

export default async function LoginPage() {
  const s = await currentSession((await cookies()).get(SESSION_COOKIE)?.value);
  if (s.needsSetup) redirect("/setup");
  if (s.user) redirect("/");
  return <LoginForm />;
}
