import { router } from "../../trpc.ts";
import { classifyCapture } from "./classify-capture.ts";
import { listProtocols } from "./list-protocols.ts";
import { refreshProtocols } from "./refresh-protocols.ts";
import { testPattern } from "./test-pattern.ts";

export const protocolsRouter = router({ listProtocols, refreshProtocols, testPattern, classifyCapture });
