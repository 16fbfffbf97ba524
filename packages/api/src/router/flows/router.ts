import { router } from "../../trpc.ts";
import { listFlows } from "./list-flows.ts";

export const flowsRouter = router({ listFlows });
