import { Center, Paper, Stack, Text, Title } from "@mantine/core";

export const dynamic = "force-dynamic";

export default function AuthLayout({ children }: { children: React.ReactNode }) {
  return (
    <Center mih="100vh" p="md">
      <Stack w={380} gap="md">
        <Stack gap={0} align="center">
          <Title order={2}>Sluice</Title>
          <Text c="dimmed" size="sm">
            layer-7 QoS appliance
          </Text>
        </Stack>
        <Paper withBorder shadow="sm" p="lg" radius="md">
          {children}
        </Paper>
      </Stack>
    </Center>
  );
}
