// The data-plane worker's entry: lowers the thread's priority before the worker's module
// graph (the classifier, re2) loads, then runs it (see thread-priority.ts; worker.ts takes
// the priority back before it binds its queue).

import { lowerWhileLoading } from "./thread-priority.ts";

lowerWhileLoading();
await import("./worker.ts");
