import { Code, Text } from "@mantine/core";

/** Lines of a "- old / + new" diff, coloured. */
export function DiffBlock({
  lines,
  empty = "no difference",
  testId,
}: {
  lines: string[];
  empty?: string;
  testId?: string;
}) {
  if (!lines.length)
    return (
      <Text size="sm" c="dimmed" data-testid={testId}>
        {empty}
      </Text>
    );
  return (
    <Code block data-testid={testId} style={{ maxHeight: 320, overflow: "auto", padding: 0 }}>
      {lines.map((l, i) => (
        <div
          key={i}
          className={
            l.startsWith("+")
              ? "diff-add"
              : l.startsWith("-")
                ? "diff-del"
                : l.startsWith("!")
                  ? "diff-note"
                  : undefined
          }
          style={{ padding: "0 8px", whiteSpace: "pre" }}
        >
          {l}
        </div>
      ))}
    </Code>
  );
}
