import { router } from "../../trpc.ts";
import { changePassword } from "./change-password.ts";
import { createUser } from "./create-user.ts";
import { listUsers } from "./list-users.ts";
import { removeUser } from "./remove-user.ts";
import { setPassword } from "./set-password.ts";

export const usersRouter = router({ listUsers, createUser, removeUser, changePassword, setPassword });
