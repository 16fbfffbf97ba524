// The tRPC endpoint: everything the pages ask the server goes through here.
import { api } from "@/server/api";

export const dynamic = "force-dynamic";

const handler = async (req: Request) => (await api()).handleTrpc(req);
export { handler as GET, handler as POST };
