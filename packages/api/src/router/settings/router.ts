import { router } from "../../trpc.ts";
import { getSettings } from "./get-settings.ts";
import { saveInterfaces } from "./save-interfaces.ts";
import { saveMetrics } from "./save-metrics.ts";

export const settingsRouter = router({ getSettings, saveInterfaces, saveMetrics });
