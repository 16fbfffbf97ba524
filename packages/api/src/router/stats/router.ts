import { router } from "../../trpc.ts";
import { getHistory } from "./get-history.ts";
import { getLive } from "./get-live.ts";

export const statsRouter = router({ getLive, getHistory });
