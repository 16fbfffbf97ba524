// Where the agent listens: HTTP over a unix socket (mode 0660: root and the dashboard's group).

export const DEFAULT_SOCKET_PATH = "/run/sluice/agent.sock";

/** The socket to use: $SLUICE_SOCKET when set (and not empty), else the default. */
export function socketFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.SLUICE_SOCKET || DEFAULT_SOCKET_PATH;
}
