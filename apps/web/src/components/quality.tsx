import { Badge } from "@mantine/core";

const COLORS: Record<string, string> = {
  great: "green",
  veryGood: "teal",
  good: "lime",
  ok: "yellow",
  marginal: "orange",
  poor: "red",
  notsupported: "gray",
};

/** The pattern's quality as its author rated it (l7-filter's scale). */
export function QualityBadge({ quality }: { quality: string | null | undefined }) {
  if (!quality) return null;
  return (
    <Badge size="xs" variant="light" color={COLORS[quality] ?? "gray"}>
      {quality}
    </Badge>
  );
}
