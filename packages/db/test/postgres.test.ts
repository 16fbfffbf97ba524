// Skipped, with the reason, where PostgreSQL's server binaries are not installed.
import { postgresBackend } from "./helpers.ts";
import { repositoryTests } from "./repositories.ts";

repositoryTests(postgresBackend());
