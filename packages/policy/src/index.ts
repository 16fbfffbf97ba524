export * from "./units.ts";
export * from "./text.ts";
export * from "./schema.ts";
export * from "./validate.ts";
export * from "./example.ts";
export * from "./hostname-glob.ts";
export * from "./marks.ts";
export * from "./resolve.ts";
