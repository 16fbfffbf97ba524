"use client";
// Protocols: the agent's pattern catalogue (cached in the database), a pattern tester
// (text or hex through the agent's matcher) and a capture classifier (pcap/pcapng upload,
// classified on the server with the same classifier and pattern set).

import { Fragment, useMemo, useState } from "react";
import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Code,
  FileInput,
  Group,
  ScrollArea,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  Title,
} from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/lib/trpc";
import { formatBytes, formatTime } from "@/lib/format";
import { Empty, ErrorState, Loading } from "@/components/states";
import { QualityBadge } from "@/components/quality";
import { useCurrentUser } from "@/components/shell";

function Catalogue() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const user = useCurrentUser();
  const q = useQuery(trpc.protocols.listProtocols.queryOptions());
  const refresh = useMutation(
    trpc.protocols.refreshProtocols.mutationOptions({
      onSuccess: () => qc.invalidateQueries({ queryKey: trpc.protocols.listProtocols.queryKey() }),
    }),
  );
  const [search, setSearch] = useState("");
  const [group, setGroup] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const groups = useMemo(
    () => [...new Set((q.data?.protocols ?? []).flatMap((p) => p.groups))].sort(),
    [q.data],
  );
  const list = useMemo(() => {
    const words = search.toLowerCase().split(/\s+/).filter(Boolean);
    return (q.data?.protocols ?? []).filter((p) => {
      if (group && !p.groups.includes(group)) return false;
      const hay = [p.name, p.title ?? "", ...p.aliases, ...p.groups].join(" ").toLowerCase();
      return words.every((w) => hay.includes(w));
    });
  }, [q.data, search, group]);

  return (
    <Card withBorder padding="sm">
      <Group justify="space-between" mb="sm">
        <Group gap="xs">
          <Text fw={600}>Catalogue</Text>
          {q.data && (
            <Badge variant="light" color="gray">
              {q.data.protocols.length} patterns
            </Badge>
          )}
          {q.data?.updatedAt && (
            <Text size="xs" c="dimmed">
              from the agent, {formatTime(q.data.updatedAt)}
            </Text>
          )}
        </Group>
        <Group gap="xs">
          <TextInput
            size="xs"
            placeholder="Search name, alias, title, group"
            value={search}
            onChange={(e) => setSearch(e.currentTarget.value)}
            w={260}
            aria-label="search protocols"
          />
          <Select
            size="xs"
            placeholder="any group"
            data={groups}
            value={group}
            onChange={setGroup}
            clearable
            w={170}
          />
          {user.role === "admin" && (
            <Button size="xs" variant="light" onClick={() => refresh.mutate()} loading={refresh.isPending}>
              Reload from agent
            </Button>
          )}
        </Group>
      </Group>
      {refresh.error && (
        <Alert color="red" mb="sm">
          {refresh.error.message}
        </Alert>
      )}
      {q.data?.syncError && (
        <Alert color="orange" mb="sm">
          The agent could not be asked for its catalogue: {q.data.syncError}
        </Alert>
      )}
      {q.isLoading ? (
        <Loading />
      ) : q.isError ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : !list.length ? (
        <Empty>
          {q.data!.protocols.length
            ? "No protocol matches."
            : "The catalogue is empty: is the agent running?"}
        </Empty>
      ) : (
        <ScrollArea h={420}>
          <Table fz="sm" striped highlightOnHover data-testid="catalogue">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>name</Table.Th>
                <Table.Th>title</Table.Th>
                <Table.Th>quality</Table.Th>
                <Table.Th>groups</Table.Th>
                <Table.Th>transports</Table.Th>
                <Table.Th ta="right">mark</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.map((p) => (
                <Fragment key={p.name}>
                  <Table.Tr
                    style={{ cursor: "pointer" }}
                    onClick={() => setOpen(open === p.name ? null : p.name)}
                  >
                    <Table.Td fw={600}>
                      {p.name}
                      {p.aliases.length > 0 && (
                        <Text span c="dimmed" size="xs">
                          {" "}
                          ({p.aliases.join(", ")})
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>{p.title}</Table.Td>
                    <Table.Td>
                      <QualityBadge quality={p.quality} />
                      {p.overmatch && (
                        <Badge size="xs" color="orange" variant="outline" ml={4}>
                          overmatch
                        </Badge>
                      )}
                      {p.undermatch && (
                        <Badge size="xs" color="orange" variant="outline" ml={4}>
                          undermatch
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4}>
                        {p.groups.map((g) => (
                          <Badge key={g} size="xs" variant="outline" color="gray">
                            {g}
                          </Badge>
                        ))}
                      </Group>
                    </Table.Td>
                    <Table.Td>{p.transports.join(", ")}</Table.Td>
                    <Table.Td ta="right">{p.mark}</Table.Td>
                  </Table.Tr>
                  {open === p.name && (
                    <Table.Tr>
                      <Table.Td colSpan={6}>
                        <Stack gap={4}>
                          <Code block style={{ whiteSpace: "pre-wrap", wordBreak: "break-all" }}>
                            {p.pattern}
                          </Code>
                          {p.notes.map((n) => (
                            <Text size="xs" key={n}>
                              {n}
                            </Text>
                          ))}
                          {p.wiki && (
                            <Text size="xs" c="dimmed">
                              wiki: <Anchor size="xs">{p.wiki}</Anchor>
                            </Text>
                          )}
                        </Stack>
                      </Table.Td>
                    </Table.Tr>
                  )}
                </Fragment>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollArea>
      )}
    </Card>
  );
}

/** The tester's caps (as the server's): the classifier reads only the first 2 KiB anyway. */
const TESTER_MAX = { text: 8192, hex: 8192 * 4 };

function Tester() {
  const trpc = useTRPC();
  const [mode, setMode] = useState<"text" | "hex">("text");
  const [l4, setL4] = useState<"tcp" | "udp">("tcp");
  const [dir, setDir] = useState<"c2s" | "s2c">("c2s");
  const [payload, setPayload] = useState("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
  // the size of a paste that did not fit (the box itself cuts at the cap: laying out 100 KB
  // of pasted text would make the page crawl before any check could refuse it)
  const [pasted, setPasted] = useState(0);
  const test = useMutation(trpc.protocols.testPattern.mutationOptions());
  const r = test.data;
  const max = TESTER_MAX[mode];
  return (
    <Card withBorder padding="sm">
      <Text fw={600} mb="xs">
        Pattern tester
      </Text>
      <Stack gap="xs">
        <Group gap="xs">
          <SegmentedControl
            size="xs"
            value={mode}
            onChange={(v) => setMode(v as "text" | "hex")}
            data={[
              { value: "text", label: "text" },
              { value: "hex", label: "hex" },
            ]}
          />
          <SegmentedControl
            size="xs"
            value={l4}
            onChange={(v) => setL4(v as "tcp" | "udp")}
            data={["tcp", "udp"]}
          />
          <SegmentedControl
            size="xs"
            value={dir}
            onChange={(v) => setDir(v as "c2s" | "s2c")}
            data={[
              { value: "c2s", label: "client → server" },
              { value: "s2c", label: "server → client" },
            ]}
          />
        </Group>
        <Textarea
          autosize
          minRows={4}
          maxRows={10}
          className="mono"
          value={payload}
          maxLength={max}
          onPaste={(e) => {
            const t = e.currentTarget;
            const room = max - t.value.length + (t.selectionEnd - t.selectionStart);
            const n = e.clipboardData.getData("text").length;
            setPasted(n > room ? n : 0);
          }}
          onChange={(e) => setPayload(e.currentTarget.value)}
          placeholder={mode === "hex" ? "16 03 01 02 00 01 …" : "the first bytes of a connection"}
          aria-label="payload"
          error={
            payload.length >= max &&
            `${pasted ? `${Math.ceil(pasted / 1024)} KiB pasted: ` : ""}the tester takes at most ${max / 1024} KiB${mode === "hex" ? " of hex" : ""} (the classifier only reads the first 2 KiB of a connection): only the first ${max / 1024} KiB are kept`
          }
          data-testid="tester-payload"
        />
        <Group>
          <Button
            size="xs"
            onClick={() =>
              test.mutate(
                mode === "hex"
                  ? { l4, dir, hex: payload }
                  : { l4, dir, text: payload.replace(/\\r/g, "\r").replace(/\\n/g, "\n") },
              )
            }
            loading={test.isPending}
            data-testid="tester-run"
          >
            Test
          </Button>
          <Text size="xs" c="dimmed">
            Text: \r and \n are control characters. Hex: spaces, colons and \x are ignored.
          </Text>
        </Group>
        {test.error && <ErrorState error={test.error} />}
        {r && !r.ok && <Alert color="red">{r.error}</Alert>}
        {r && r.ok && (
          <Stack gap={4} data-testid="tester-result">
            <Text size="sm">
              Verdict: <Badge color={r.verdict === "unknown" ? "gray" : "indigo"}>{r.verdict}</Badge>{" "}
              <Text span size="xs" c="dimmed">
                ({r.bytes} bytes)
              </Text>
            </Text>
            <Text size="sm" c="dimmed">
              Matching patterns:{" "}
              {r.matches.length
                ? r.matches.map((m) => `${m.name}${m.quality ? ` (${m.quality})` : ""}`).join(", ")
                : "none"}
            </Text>
          </Stack>
        )}
      </Stack>
    </Card>
  );
}

function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ""));
    r.onerror = () => reject(r.error ?? new Error("could not read the file"));
    r.readAsDataURL(file);
  });
}

function Capture({ maxBytes }: { maxBytes: number }) {
  const trpc = useTRPC();
  const [file, setFile] = useState<File | null>(null);
  const classify = useMutation(trpc.protocols.classifyCapture.mutationOptions());
  const r = classify.data;
  const maxMiB = Math.round(maxBytes / 1048576);
  // refused here, before reading or sending it: the server would refuse it anyway
  const tooLarge =
    file && file.size > maxBytes
      ? `${file.name} is ${formatBytes(file.size)}: captures up to ${maxMiB} MiB`
      : null;
  return (
    <Card withBorder padding="sm">
      <Text fw={600} mb="xs">
        Classify a capture
      </Text>
      <Stack gap="xs">
        <Group align="flex-end">
          <FileInput
            size="xs"
            w={280}
            label={`pcap or pcapng (up to ${maxMiB} MiB)`}
            placeholder="choose a file"
            accept=".pcap,.pcapng,.cap,application/vnd.tcpdump.pcap"
            value={file}
            onChange={(f) => {
              classify.reset();
              setFile(f);
            }}
            error={tooLarge}
            clearable
            data-testid="capture-file"
          />
          <Button
            size="xs"
            disabled={!file || tooLarge !== null}
            loading={classify.isPending}
            onClick={async () =>
              file && !tooLarge && classify.mutate({ name: file.name, dataBase64: await readBase64(file) })
            }
            data-testid="capture-run"
          >
            Classify
          </Button>
        </Group>
        {classify.error && <ErrorState error={classify.error} />}
        {r && (
          <Stack gap="xs" data-testid="capture-result">
            <Text size="sm">
              <b>{r.name}</b>: {r.format ?? "unknown format"}, {r.frames} frames, {r.decoded} decoded,{" "}
              {r.flows.length} connections, {r.patterns} patterns, {r.ms} ms.
            </Text>
            {r.error && (
              <Alert color="orange">
                The capture is damaged after frame {r.frames}: {r.error}
              </Alert>
            )}
            {r.summary.length === 0 ? (
              <Empty>No TCP or UDP connections in this capture.</Empty>
            ) : (
              <Stack gap="xs">
                <Table fz="xs" striped>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>protocol</Table.Th>
                      <Table.Th ta="right">connections</Table.Th>
                      <Table.Th ta="right">bytes</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {r.summary.map((s) => (
                      <Table.Tr key={s.protocol}>
                        <Table.Td>{s.protocol}</Table.Td>
                        <Table.Td ta="right">{s.flows}</Table.Td>
                        <Table.Td ta="right">{formatBytes(s.bytes)}</Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
                <ScrollArea.Autosize mah={260}>
                  <Table fz="xs" striped data-testid="capture-flows">
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th>l4</Table.Th>
                        <Table.Th>client</Table.Th>
                        <Table.Th>server</Table.Th>
                        <Table.Th>protocol</Table.Th>
                        <Table.Th ta="right">pkts</Table.Th>
                        <Table.Th ta="right">decided at</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {r.flows.slice(0, 300).map((f, i) => (
                        <Table.Tr key={i}>
                          <Table.Td>{f.l4}</Table.Td>
                          <Table.Td className="mono">{f.client}</Table.Td>
                          <Table.Td className="mono">{f.server}</Table.Td>
                          <Table.Td>{f.protocol}</Table.Td>
                          <Table.Td ta="right">{f.packets}</Table.Td>
                          <Table.Td ta="right">{f.decided_at_packet ?? "–"}</Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </ScrollArea.Autosize>
              </Stack>
            )}
          </Stack>
        )}
      </Stack>
    </Card>
  );
}

export function ProtocolsView({ captureMaxBytes }: { captureMaxBytes: number }) {
  return (
    <Stack gap="md">
      <Title order={3}>Protocols</Title>
      <Catalogue />
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <Tester />
        <Capture maxBytes={captureMaxBytes} />
      </SimpleGrid>
    </Stack>
  );
}
