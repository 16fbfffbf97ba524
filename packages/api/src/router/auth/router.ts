import { router } from "../../trpc.ts";
import { getSession } from "./get-session.ts";
import { login } from "./login.ts";
import { logout } from "./logout.ts";
import { setupAdmin } from "./setup-admin.ts";

export const authRouter = router({ getSession, login, logout, setupAdmin });
