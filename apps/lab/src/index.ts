// The test lab: three network namespaces (clients, the appliance, servers), real servers
// and a realistic, endless traffic mix. See constants.ts for the topology.

export { labCommand } from "./command.ts";
export { LAB, ZONE_NAMES, isLabAddress, zoneFqdn, type LabNsName } from "./constants.ts";
export {
  CommandError,
  execInNs,
  execInNsSync,
  killInNs,
  run,
  runSync,
  type CommandResult,
  type ExecOptions,
} from "./exec.ts";
export {
  formatLabStatus,
  GENERATOR_KINDS,
  isLabProcess,
  labDown,
  labStatus,
  labTraffic,
  labUp,
  SERVER_KINDS,
  type LabAddress,
  type LabDownResult,
  type LabProc,
  type LabState,
  type LabStatus,
  type LabUpOptions,
} from "./lab.ts";
export { LabAgent } from "./lab-agent.ts";
export { DEFAULT_PACE, GREEDY_PACE, type PaceConfig } from "./proc-config.ts";
export {
  labProbe,
  type DnsProbeResult,
  type HttpProbeResult,
  type ProbeRequest,
  type ProbeResult,
  type TlsProbeResult,
} from "./probe.ts";
