import { router } from "../../trpc.ts";
import { getSettings } from "./get-settings.ts";
import { saveInterfaces } from "./save-interfaces.ts";

export const settingsRouter = router({ getSettings, saveInterfaces });
