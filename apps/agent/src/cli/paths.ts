import { fileURLToPath } from "node:url";
import { resolve } from "node:path";

/** The repository root (apps/agent/src/cli → ../../../..). */
export const REPO_ROOT = resolve(fileURLToPath(new URL("../../../..", import.meta.url)));

/** Sluice's own pattern set; overridable for the appliance image. */
export const DEFAULT_PROTOCOLS_DIR = process.env.SLUICE_PROTOCOLS ?? resolve(REPO_ROOT, "protocols");
