import { sqliteBackend } from "./helpers.ts";
import { repositoryTests } from "./repositories.ts";

repositoryTests(sqliteBackend());
