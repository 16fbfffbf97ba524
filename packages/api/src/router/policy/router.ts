import { router } from "../../trpc.ts";
import { getPolicy } from "./get-policy.ts";
import { loadInstalled } from "./load-installed.ts";
import { loadVersion } from "./load-version.ts";
import { savePolicy } from "./save-policy.ts";

export const policyRouter = router({ getPolicy, savePolicy, loadVersion, loadInstalled });
