// Where to go after signing in: the `next` query parameter, only if it is a path on this
// site. Browsers drop tabs and newlines inside URLs and read "\" as "/", so "/\t/host" or
// "/\host" would lead elsewhere: such text is refused outright, and the rest is parsed with
// URL against this origin and kept only if it stays on it.

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f\\]/;

export function safeNext(next: string | null | undefined, origin: string): string {
  if (!next || !next.startsWith("/") || UNSAFE.test(next)) return "/";
  let url: URL;
  try {
    url = new URL(next, origin);
  } catch {
    return "/";
  }
  if (url.origin !== new URL(origin).origin) return "/";
  return `${url.pathname}${url.search}${url.hash}`;
}
