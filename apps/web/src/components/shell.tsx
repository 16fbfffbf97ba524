"use client";
// The frame of every signed-in page: navigation, who is signed in, and the agent's state (a
// banner when it is down: pages then show the last data the dashboard has).

import Link from "next/link";
import { usePathname } from "next/navigation";
import { createContext, useContext, type ReactNode } from "react";
import {
  Alert,
  AppShell,
  Badge,
  Burger,
  Button,
  Group,
  NavLink,
  Stack,
  Text,
  Title,
  Tooltip,
} from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/lib/trpc";
import { ago, formatTime } from "@/lib/format";
import { useStackLabels } from "./stack-labels";

const NAV = [
  { href: "/", label: "Overview" },
  { href: "/classes", label: "Classes" },
  { href: "/rules", label: "Rules" },
  { href: "/devices", label: "Devices" },
  { href: "/protocols", label: "Protocols" },
  { href: "/apply", label: "Apply" },
  { href: "/flows", label: "Flows" },
  { href: "/settings", label: "Settings" },
];

export interface CurrentUser {
  username: string;
  role: "admin" | "viewer";
}

const UserContext = createContext<CurrentUser>({ username: "", role: "viewer" });
export const useCurrentUser = () => useContext(UserContext);

export function useAgentHealth() {
  const trpc = useTRPC();
  return useQuery({ ...trpc.agent.getHealth.queryOptions(), refetchInterval: 5000, staleTime: 4000 });
}

function AgentBadge() {
  const h = useAgentHealth();
  if (h.isLoading) return <Badge color="gray">agent …</Badge>;
  if (h.isError) return <Badge color="red">dashboard error</Badge>;
  const d = h.data!;
  return d.reachable ? (
    <Tooltip label={`agent ${d.status?.version ?? ""} on ${d.socket}`}>
      <Badge color="green" variant="light" data-testid="agent-badge">
        agent up
      </Badge>
    </Tooltip>
  ) : (
    <Badge color="red" data-testid="agent-badge">
      agent down
    </Badge>
  );
}

function AgentBanner() {
  const h = useAgentHealth();
  const d = h.data;
  if (!d || d.reachable) return null;
  return (
    <Alert color="red" title="The agent is not reachable" mb="md" data-testid="agent-down-banner">
      <Text size="sm">
        {d.error ?? `no answer on ${d.socket}`}
        {d.downSince ? ` (since ${formatTime(d.downSince)})` : ""}. Traffic keeps flowing (queue bypass), but
        nothing can be applied. The pages show the last data the dashboard has
        {d.statusAt ? `; the agent's status is from ${ago(d.statusAt)}` : ""}.
      </Text>
    </Alert>
  );
}

function TryBanner() {
  const h = useAgentHealth();
  const trying = h.data?.reachable ? h.data.status?.trying : null;
  const path = usePathname();
  if (!trying || path === "/apply") return null;
  return (
    <Alert color="yellow" mb="md" title="A policy is being tried">
      <Group justify="space-between">
        <Text size="sm">
          Entry #{trying.entryId} reverts by itself at {formatTime(trying.until)} unless confirmed.
        </Text>
        <Button component={Link} href="/apply" size="xs" variant="light">
          Go to Apply
        </Button>
      </Group>
    </Alert>
  );
}

export function Shell({ user, children }: { user: CurrentUser; children: ReactNode }) {
  const [opened, { toggle, close }] = useDisclosure();
  useStackLabels();
  const path = usePathname();
  const trpc = useTRPC();
  const logout = useMutation(
    trpc.auth.logout.mutationOptions({ onSettled: () => location.assign("/login") }),
  );
  return (
    <UserContext.Provider value={user}>
      <AppShell
        header={{ height: 56 }}
        data-nav-open={opened ? "true" : "false"}
        navbar={{ width: 200, breakpoint: "sm", collapsed: { mobile: !opened } }}
        padding="md"
      >
        <AppShell.Header>
          <Group h="100%" px="md" justify="space-between">
            <Group gap="sm" wrap="nowrap">
              <Burger
                opened={opened}
                onClick={toggle}
                hiddenFrom="sm"
                size="sm"
                aria-label="navigation"
                data-testid="nav-burger"
              />
              <Title order={4}>Sluice</Title>
              <AgentBadge />
            </Group>
            <Group gap="sm" wrap="nowrap">
              <Text size="sm" data-testid="current-user" truncate maw={{ base: 90, sm: 240 }}>
                {user.username}{" "}
                <Text span c="dimmed" size="xs" visibleFrom="sm">
                  ({user.role})
                </Text>
              </Text>
              <Button size="xs" variant="default" onClick={() => logout.mutate()} loading={logout.isPending}>
                Sign out
              </Button>
            </Group>
          </Group>
        </AppShell.Header>
        <AppShell.Navbar p="xs">
          <Stack gap={2}>
            {NAV.map((n) => (
              <NavLink
                key={n.href}
                component={Link}
                href={n.href}
                label={n.label}
                active={n.href === "/" ? path === "/" : path.startsWith(n.href)}
                onClick={close}
              />
            ))}
          </Stack>
        </AppShell.Navbar>
        <AppShell.Main>
          <AgentBanner />
          <TryBanner />
          {children}
        </AppShell.Main>
      </AppShell>
    </UserContext.Provider>
  );
}
