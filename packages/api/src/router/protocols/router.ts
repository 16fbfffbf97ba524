import { router } from "../../trpc.ts";
import { classifyCapture } from "./classify-capture.ts";
import { listApps } from "./list-apps.ts";
import { listProtocols } from "./list-protocols.ts";
import { refreshProtocols } from "./refresh-protocols.ts";
import { testPattern } from "./test-pattern.ts";

export const protocolsRouter = router({
  listProtocols,
  listApps,
  refreshProtocols,
  testPattern,
  classifyCapture,
});
