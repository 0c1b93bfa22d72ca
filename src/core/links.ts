/** Where people find things: the dashboard's pages, as paths under the web process's address. */

/** The dashboard page of a monitor (its incidents, results and decisions). */
export function monitorHref(id: string): string {
  return `/monitors/${encodeURIComponent(id)}`;
}
