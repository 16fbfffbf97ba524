import { router } from "../../trpc.ts";
import { listDevices } from "./list-devices.ts";
import { saveDevices } from "./save-devices.ts";

export const devicesRouter = router({ listDevices, saveDevices });
