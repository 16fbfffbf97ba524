// The appliance image, booted for real: builds deploy/iso/out/sluice.iso when it is missing
// (or SLUICE_ISO_BUILD=1), then runs deploy/iso/boot-test.sh (two boots in QEMU under software
// emulation: capabilities, dashboard, admin setup, persistence). Slow (about 15 minutes with
// the build, 10 without), so it runs only with SLUICE_ISO_TEST=1.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ISO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ISO = join(ISO_DIR, "out/sluice.iso");
const enabled = process.env.SLUICE_ISO_TEST === "1";

test(
  "the ISO boots in QEMU: sfq/nft variant, dashboard setup, admin and policy survive a reboot",
  {
    skip: enabled
      ? false
      : "set SLUICE_ISO_TEST=1 to build and boot the appliance image in QEMU (about 10-15 minutes; see docs/iso.md)",
    timeout: 60 * 60_000,
  },
  () => {
    if (process.getuid?.() !== 0) assert.fail("the ISO build and boot test need root");
    if (!existsSync(ISO) || process.env.SLUICE_ISO_BUILD === "1") {
      const b = spawnSync("bash", [join(ISO_DIR, "build.sh")], { stdio: "inherit" });
      assert.equal(b.status, 0, "deploy/iso/build.sh failed");
    }
    const r = spawnSync("bash", [join(ISO_DIR, "boot-test.sh"), "--iso", ISO], { stdio: "inherit" });
    assert.equal(r.status, 0, "deploy/iso/boot-test.sh failed (its output above names the failed check)");
  },
);
