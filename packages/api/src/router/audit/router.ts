import { router } from "../../trpc.ts";
import { listAudit } from "./list-audit.ts";

export const auditRouter = router({ listAudit });
