import { router } from "../../trpc.ts";
import { applyPolicy } from "./apply-policy.ts";
import { tryPolicy } from "./try-policy.ts";
import { confirmTry } from "./confirm-try.ts";
import { listHistory } from "./list-history.ts";
import { previewApply } from "./preview-apply.ts";
import { rollbackPolicy } from "./rollback-policy.ts";

export const applyRouter = router({
  previewApply,
  applyPolicy,
  tryPolicy,
  confirmTry,
  rollbackPolicy,
  listHistory,
});
